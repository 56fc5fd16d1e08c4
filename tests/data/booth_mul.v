// A radix-4 (modified) Booth multiplier written by hand, unsigned W x W -> 2W bits.
// Per digit: the Booth encoder (one, two, neg from three multiplier bits), the partial-product selector
// (|digit| * a, ones' complement when negative; the +1 of the two's complement enters as its own bit),
// then the shifted partial products summed in a chain of adders.
module booth_mul #(parameter W = 16) (
  input  [W-1:0]   a,
  input  [W-1:0]   b,
  output [2*W-1:0] p
);
  localparam N = W / 2 + 1;                         // digits: b zero-extended, so the top digit is >= 0
  wire [2*N:0] bx = {{(2*N - W){1'b0}}, b, 1'b0};   // b with the implicit b[-1] = 0 below it
  wire [2*W*(N+1)-1:0] acc;                         // running sums, 2W bits each
  assign acc[2*W-1:0] = {2*W{1'b0}};
  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : digit
      wire lo = bx[2*i], mid = bx[2*i+1], hi = bx[2*i+2];
      wire one = lo ^ mid;                                  // |digit| = 1
      wire two = (hi & ~mid & ~lo) | (~hi & mid & lo);      // |digit| = 2
      wire neg = hi & ~(mid & lo);                          // digit < 0
      wire [W:0] mag = ({(W+1){one}} & {1'b0, a}) | ({(W+1){two}} & {a, 1'b0});
      wire [2*W-1:0] pp = {{(W-1){neg}}, mag ^ {(W+1){neg}}};
      wire [2*W-1:0] sum = acc[2*W*i +: 2*W] + (pp << (2*i)) + ({{(2*W-1){1'b0}}, neg} << (2*i));
      assign acc[2*W*(i+1) +: 2*W] = sum;
    end
  endgenerate
  assign p = acc[2*W*N +: 2*W];
endmodule

module booth16 (input [15:0] a, input [15:0] b, output [31:0] p);
  booth_mul #(.W(16)) m (.a(a), .b(b), .p(p));
endmodule

module booth6 (input [5:0] a, input [5:0] b, output [11:0] p);
  booth_mul #(.W(6)) m (.a(a), .b(b), .p(p));
endmodule

module booth24 (input [23:0] a, input [23:0] b, output [47:0] p);
  booth_mul #(.W(24)) m (.a(a), .b(b), .p(p));
endmodule
