// Multipliers as Yosys synthesizes the `*` operator (unsigned).
module mul24 (input [23:0] a, input [23:0] b, output [47:0] p);
  assign p = a * b;
endmodule

module mul6 (input [5:0] a, input [5:0] b, output [11:0] p);
  assign p = a * b;
endmodule
