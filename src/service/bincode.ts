/**
 * The slice of bincode 2 (standard config: little-endian, variable-length integers) that WAVS uses
 * to turn trigger data into an event-id salt. Only encoding: nodes never need to decode it.
 */
export class BincodeWriter {
  private readonly chunks: number[] = [];

  /** Unsigned varint: ≤ 250 in one byte, else tag 251/252/253/254 and a u16/u32/u64/u128 LE. */
  varint(value: bigint | number): this {
    const v = BigInt(value);
    if (v < 0n) throw new RangeError(`bincode varint must be unsigned, got ${v}`);
    if (v <= 250n) return this.byte(Number(v));
    if (v <= 0xffffn) return this.byte(251).le(v, 2);
    if (v <= 0xffff_ffffn) return this.byte(252).le(v, 4);
    if (v <= 0xffff_ffff_ffff_ffffn) return this.byte(253).le(v, 8);
    if (v < 1n << 128n) return this.byte(254).le(v, 16);
    throw new RangeError(`bincode varint out of range: ${v}`);
  }

  /** A length-prefixed byte vector (also fixed-size arrays, which serde writes with their length). */
  bytes(data: Uint8Array): this {
    this.varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }

  string(value: string): this {
    return this.bytes(new TextEncoder().encode(value));
  }

  option<T>(value: T | null | undefined, write: (value: T) => void): this {
    if (value === null || value === undefined) return this.byte(0);
    this.byte(1);
    write(value);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }

  private byte(b: number): this {
    this.chunks.push(b & 0xff);
    return this;
  }

  private le(value: bigint, width: number): this {
    for (let i = 0; i < width; i++) this.byte(Number((value >> BigInt(8 * i)) & 0xffn));
    return this;
  }
}
