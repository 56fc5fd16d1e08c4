// A 32-bit adder as Yosys synthesizes the `+` operator, ports as gatesim's adders name them.
module add32 (input [31:0] a, input [31:0] b, input cin, output [31:0] sum, output cout);
  assign {cout, sum} = a + b + cin;
endmodule
