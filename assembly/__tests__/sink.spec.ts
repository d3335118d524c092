import { ByteSink } from "../sink";

function text(s: ByteSink): string {
  return String.UTF8.decodeUnsafe(s.ptr, s.len, false);
}

describe("ByteSink", () => {
  it("formats integers like printf", () => {
    const s = new ByteSink(4);
    s.u32dec(0); s.byte(32);
    s.u32dec(4294967295); s.byte(32);
    s.i32dec(-2147483648); s.byte(32);
    s.i64dec(-9223372036854775807 - 1); s.byte(32);
    s.u64dec(18446744073709551615); s.byte(32);
    s.hex(0xdeadbeef);
    expect(text(s)).toBe("0 4294967295 -2147483648 -9223372036854775808 18446744073709551615 deadbeef");
    s.dispose();
  });
  it("grows past its initial capacity", () => {
    const s = new ByteSink(16);
    for (let i = 0; i < 10000; i++) s.str("abc");
    expect(s.len).toBe(30000);
    s.dispose();
  });
});
