/**
 * Counts held things (handshake requests, then the Engine.IO sessions they open) per client address and in
 * all. Each is counted under a key object once; a key can be handed over to its successor (a request to
 * its session) and is counted out once, whatever calls come later. Keys are held weakly.
 */
export class AddressCount {
  private readonly byAddress = new Map<string, number>();
  private all = 0;
  private readonly counted = new WeakMap<object, string>();

  /**
   * Counts `key` in under `address`, or answers false when the address holds `perAddress` already
   * (0 = no per-address cap) or all addresses hold `total`.
   */
  admit(key: object, address: string, perAddress: number, total = Infinity): boolean {
    const held = this.byAddress.get(address) ?? 0;
    if (this.all >= total || (perAddress > 0 && held >= perAddress)) return false;
    this.byAddress.set(address, held + 1);
    this.all += 1;
    this.counted.set(key, address);
    return true;
  }

  /** Hands `from`'s count over to `to`; false when `from` was not counted. */
  handOver(from: object, to: object): boolean {
    const address = this.counted.get(from);
    if (address === undefined) return false;
    this.counted.delete(from);
    this.counted.set(to, address);
    return true;
  }

  /** Counts `key` out (once; later calls do nothing and answer false). */
  settle(key: object): boolean {
    const address = this.counted.get(key);
    if (address === undefined) return false;
    this.counted.delete(key);
    this.all -= 1;
    const held = (this.byAddress.get(address) ?? 1) - 1;
    if (held > 0) this.byAddress.set(address, held);
    else this.byAddress.delete(address);
    return true;
  }

  /** Held now (from `address` when given). */
  count(address?: string): number {
    return address === undefined ? this.all : this.byAddress.get(address) ?? 0;
  }
}
