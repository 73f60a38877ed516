// Congestion control: slow start and congestion avoidance (RFC 5681) with NewReno fast
// retransmit / fast recovery (RFC 6582). Sizes are in bytes; the endpoint does the sending.

export class NewReno {
  cwnd: number;
  ssthresh = 0x7fffffff;
  inRecovery = false;
  /** RFC 6582 "recover": highest sequence sent when recovery began. */
  recover: number;
  dupAcks = 0;
  /** Bytes acked since the last cwnd increase in congestion avoidance. */
  private caAcked = 0;

  constructor(
    private mss: number,
    iss: number,
  ) {
    this.cwnd = initialWindow(mss);
    this.recover = iss;
  }

  setMss(mss: number): void {
    this.mss = mss;
    this.cwnd = initialWindow(mss);
  }

  /**
   * New data acknowledged outside recovery (RFC 5681 3.1 with byte counting, L = 2*SMSS).
   * flight is what was outstanding before this ACK: the window grows only while it limits
   * sending (RFC 7661; Linux's tcp_is_cwnd_limited), so an application-limited sender's cwnd
   * does not climb without bound.
   */
  onNewAck(acked: number, flight = Infinity): void {
    this.dupAcks = 0;
    const limited = this.cwnd < this.ssthresh ? this.cwnd < 2 * flight : flight + this.mss >= this.cwnd;
    if (!limited) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, 2 * this.mss);
    } else {
      this.caAcked += acked;
      if (this.caAcked >= this.cwnd) {
        this.caAcked -= this.cwnd;
        this.cwnd += this.mss;
      }
    }
  }

  /** Third duplicate ACK: enter fast recovery (RFC 6582 3.2 step 2). */
  enterRecovery(flight: number, sndMax: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.ssthresh + 3 * this.mss;
    this.recover = sndMax;
    this.inRecovery = true;
  }

  /** Each further duplicate ACK in recovery inflates the window (step 3). */
  onDupAckInRecovery(): void {
    this.cwnd += this.mss;
  }

  /** Partial ACK (step 5): deflate by the amount acked, add back one MSS. */
  onPartialAck(acked: number): void {
    this.cwnd = Math.max(this.cwnd - acked + this.mss, this.mss);
  }

  /** Full ACK (step 5, option 1 of 3.2): leave recovery with cwnd = min(ssthresh, flight + MSS). */
  onFullAck(flight: number): void {
    this.cwnd = Math.min(this.ssthresh, Math.max(flight, this.mss) + this.mss);
    this.inRecovery = false;
    this.dupAcks = 0;
    this.caAcked = 0;
  }

  /** Retransmission timeout (RFC 5681 eq. 4): one segment, ssthresh halved. */
  onTimeout(flight: number, sndMax: number): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.mss;
    this.inRecovery = false;
    this.recover = sndMax;
    this.dupAcks = 0;
    this.caAcked = 0;
  }
}

/** RFC 6928's initial window: min(10*MSS, max(2*MSS, 14600)). */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}
