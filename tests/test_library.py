import json

import pytest

import circuits
from gatesim import CellLibrary, LibraryError, Netlist, builtin_libraries, count, load_library


def test_builtins():
    assert set(builtin_libraries()) >= {"static-cmos", "yosys-cmos", "paper"}
    s = load_library("static-cmos")
    assert (s.gates["NOT"], s.gates["NAND2"], s.gates["AND2"], s.gates["XOR2"], s.gates["MUX2"], s.gates["AOI21"]) == (2, 4, 6, 12, 12, 6)
    assert s.cells == {"full_adder": 28}
    y = load_library("yosys-cmos")
    assert y.cells == {} and y.gates["BUF"] == 1 and y.gates["NMUX2"] == 10 and y.gates["AOI22"] == 8
    assert load_library("paper").cells["full_adder"] == 10


@pytest.mark.parametrize("width", [1, 8, 24, 53])
def test_cells_replace_their_gates(width):
    net = circuits.build("ripple-carry-adder", width)
    assert count(net, "static-cmos").transistors == 28 * width
    assert count(net, "paper").transistors == 10 * width
    # gates only: 2 XOR (12) + 2 AND (6) + 1 OR (6) per bit
    assert count(net, "yosys-cmos").transistors == 42 * width
    c = count(net, "paper")
    assert c.gates == {"AND2": 2 * width, "OR2": width, "XOR2": 2 * width} and c.cells == {"full_adder": width}


def test_nested_cells_outermost_wins(tmp_path):
    net = circuits.build("subtractor", 8)  # NOTs + ripple_carry_adder{full_adder x8}
    lib = CellLibrary("t", gates={"NOT": 2, "AND2": 6, "OR2": 6, "XOR2": 12}, cells={"ripple_carry_adder": 100, "full_adder": 1})
    c = count(net, lib)
    assert c.cells == {"ripple_carry_adder": 1}
    assert c.transistors == 100 + 2 * (8 + 2)


def test_user_library_files(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text('name = "mine"\n[gates]\nAND2 = 5\nOR2 = 5\nXOR2 = 8\n[cells]\n')
    assert count(circuits.build("ripple-carry-adder", 4), str(toml)).transistors == 4 * (2 * 8 + 2 * 5 + 5)
    js = tmp_path / "mine.json"
    js.write_text(json.dumps({"name": "j", "gates": {"AND2": 1, "OR2": 1, "XOR2": 1}, "cells": {"full_adder": 3}}))
    lib = load_library(js)
    assert lib.name == "j" and count(circuits.build("ripple-carry-adder", 4), lib).transistors == 12


@pytest.mark.parametrize(
    "content, message",
    [
        ("[gates\n", "malformed"),
        ("[gates]\nFOO = 3\n", "unknown gate type 'FOO'"),
        ("[gates]\nAND2 = -1\n", "non-negative integer"),
        ("[gates]\nAND2 = 1.5\n", "non-negative integer"),
        ("colour = 1\n", "unknown key 'colour'"),
    ],
)
def test_bad_library_files(tmp_path, content, message):
    p = tmp_path / "bad.toml"
    p.write_text(content)
    with pytest.raises(LibraryError, match=message):
        load_library(p)


def test_unknown_and_unreadable():
    with pytest.raises(LibraryError, match="unknown cell library 'nmos'"):
        load_library("nmos")
    with pytest.raises(LibraryError, match="cannot read library file"):
        load_library("/nonexistent/lib.toml")


def test_unpriced_gate_is_an_error():
    net = Netlist(name="m")
    a, b, s = (net.input(p)[0] for p in "abs")
    net.output("y", net.MUX(s, a, b))
    lib = CellLibrary("small", gates={"AND2": 6})
    with pytest.raises(LibraryError, match="no price for gate type MUX2"):
        count(net, lib)
