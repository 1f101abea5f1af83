package io.sketchrt.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keeps non-ASCII text intact when the locale is not UTF-8 ({@code LC_ALL=C}): the JVM then decodes
 * the command line as ASCII, so "héllo" arrives as "h??llo", and prints anything beyond ASCII as
 * '?'. On Linux the raw argument bytes are still in {@code /proc/self/cmdline}; they are decoded as
 * UTF-8 when the JVM's decoding lost characters and they are valid UTF-8. Output that the locale's
 * charset cannot carry is written as UTF-8, its superset.
 */
final class CommandLineText {
  private CommandLineText() {}

  private static Charset jnu() {
    try {
      return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    } catch (RuntimeException e) {
      return StandardCharsets.UTF_8;
    }
  }

  /** The arguments as the user typed them, when the JVM's decoding lost characters. */
  static String[] recoverArgs(String[] args) {
    if (jnu().equals(StandardCharsets.UTF_8)
        || Arrays.stream(args).noneMatch(CommandLineText::lostCharacters)) {
      return args;
    }
    byte[] raw;
    try {
      raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
    } catch (IOException | RuntimeException e) {
      return args; // not Linux: nothing better to offer
    }
    List<byte[]> parts = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] == 0) {
        parts.add(Arrays.copyOfRange(raw, start, i));
        start = i + 1;
      }
    }
    if (parts.size() < args.length) {
      return args;
    }
    String[] out = new String[args.length];
    List<byte[]> tail = parts.subList(parts.size() - args.length, parts.size());
    for (int i = 0; i < args.length; i++) {
      byte[] b = tail.get(i);
      // The same argument, byte for byte, as the JVM saw it: else the alignment is wrong.
      if (!new String(b, jnu()).equals(args[i])) {
        return args;
      }
      String utf8 = decodeStrict(b);
      if (utf8 == null) {
        return args;
      }
      out[i] = utf8;
    }
    return out;
  }

  private static boolean lostCharacters(String s) {
    return s.indexOf('\uFFFD') >= 0 || s.indexOf('?') >= 0;
  }

  private static String decodeStrict(byte[] b) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  /** stdout, writing UTF-8 when the locale's charset is plain ASCII. */
  static PrintStream stdout() {
    return stream(System.out, FileDescriptor.out, "stdout.encoding");
  }

  static PrintStream stderr() {
    return stream(System.err, FileDescriptor.err, "stderr.encoding");
  }

  private static PrintStream stream(PrintStream current, FileDescriptor fd, String property) {
    Charset cs;
    try {
      cs = Charset.forName(System.getProperty(property, "UTF-8"));
    } catch (RuntimeException e) {
      return current;
    }
    if (!cs.equals(StandardCharsets.US_ASCII)) {
      return current;
    }
    return new PrintStream(new FileOutputStream(fd), true, StandardCharsets.UTF_8);
  }
}
