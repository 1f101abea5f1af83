package io.sketchrt.cli;

/** The documented exit codes of every {@code sketchrt} subcommand (README, "Exit codes"). */
public final class ExitCodes {
  private ExitCodes() {}

  public static final int OK = 0;

  /** A check failed: validation or accuracy. */
  public static final int CHECK_FAILED = 1;

  /** Bad usage or bad input: one line {@code sketchrt: error: ...}. */
  public static final int BAD_INPUT = 2;

  /** A latency regression against a baseline. */
  public static final int LATENCY_REGRESSION = 3;

  /** A bug in sketchrt: one line plus "rerun with --debug". */
  public static final int INTERNAL_ERROR = 70;
}
