// Retransmission timeout per RFC 6298. Minimum RTO: RFC 6298 says 1 s; we use 200 ms as
// Linux does (TCP_RTO_MIN), because 1 s makes every loss on a LAN or loopback path stall
// for a second and modern stacks have long shown 200 ms safe. Maximum is 120 s (Linux
// TCP_RTO_MAX); the RTO before any sample is 1 s (RFC 6298 2.1).

export interface RttConfig {
  minRtoMs: number;
  maxRtoMs: number;
  initialRtoMs: number;
}

export const DEFAULT_RTT_CONFIG: RttConfig = { minRtoMs: 200, maxRtoMs: 120_000, initialRtoMs: 1_000 };

/** Clock granularity G: our clock is in milliseconds. */
const G = 1;

export class RttEstimator {
  srtt: number | undefined;
  rttvar = 0;
  private baseRto: number;
  /** Exponential backoff shift; reset by a fresh sample. */
  backoffs = 0;

  constructor(private readonly cfg: RttConfig = DEFAULT_RTT_CONFIG) {
    this.baseRto = cfg.initialRtoMs;
  }

  /** Feed one RTT measurement R (ms), taken per Karn's rule or from timestamps. */
  sample(r: number): void {
    r = Math.max(r, 0);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.baseRto = this.clamp(this.srtt + Math.max(G, 4 * this.rttvar));
    this.backoffs = 0;
  }

  /** RFC 6298 5.5: double the RTO after the timer expires. */
  backoff(): void {
    this.backoffs++;
  }

  get rto(): number {
    return this.clamp(this.baseRto * 2 ** Math.min(this.backoffs, 30));
  }

  private clamp(x: number): number {
    return Math.min(this.cfg.maxRtoMs, Math.max(this.cfg.minRtoMs, Math.ceil(x)));
  }
}
