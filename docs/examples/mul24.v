// A user's 24 x 24 unsigned multiplier, written as RTL: Yosys synthesizes the `*` (gatesim import maps it
// onto gatesim's gates). 24 bits is fp32's significand, so it fills the multiplier role of the fp32 units.
module mul24 (input [23:0] a, input [23:0] b, output [47:0] p);
  assign p = a * b;
endmodule
