package io.sketchrt.cli;

/** A bad flag value or combination, found after parsing: exit code 2 with one line. */
final class UsageException extends Exception {
  UsageException(String message) {
    super(message);
  }
}
