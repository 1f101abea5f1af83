package io.sketchrt.validation.report;

import java.util.List;
import java.util.Locale;

/**
 * Small server-side charts as inline SVG (no scripts, nothing fetched): the report must open
 * offline in any browser. Each chart has axes, tick labels, a title and a legend.
 */
final class Svg {
  private Svg() {}

  static final int W = 760;
  static final int H = 300;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 30;
  private static final int BOTTOM = 50;

  /** A named series of points; {@code color} is any SVG colour. */
  record Series(String name, String color, double[] x, double[] y, boolean line, boolean ring) {
    Series(String name, String color, double[] x, double[] y, boolean line) {
      this(name, color, x, y, line, false);
    }
  }

  /** A horizontal reference line such as a tolerance. */
  record HLine(String name, String color, double y) {}

  static String chart(
      String title,
      String xLabel,
      String yLabel,
      boolean logY,
      List<Series> series,
      List<HLine> hlines) {
    double xmin = Double.POSITIVE_INFINITY;
    double xmax = Double.NEGATIVE_INFINITY;
    double ymin = Double.POSITIVE_INFINITY;
    double ymax = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (logY && !(s.y()[i] > 0)) {
          continue;
        }
        xmin = Math.min(xmin, s.x()[i]);
        xmax = Math.max(xmax, s.x()[i]);
        ymin = Math.min(ymin, s.y()[i]);
        ymax = Math.max(ymax, s.y()[i]);
      }
    }
    for (HLine h : hlines) {
      ymin = Math.min(ymin, h.y());
      ymax = Math.max(ymax, h.y());
    }
    if (!Double.isFinite(xmin)) {
      xmin = 0;
      xmax = 1;
      ymin = logY ? 1e-8 : 0;
      ymax = 1;
    }
    if (xmax == xmin) {
      xmin -= 1;
      xmax += 1;
    }
    double ly0;
    double ly1;
    if (logY) {
      ly0 = Math.floor(Math.log10(ymin));
      ly1 = Math.ceil(Math.log10(ymax));
      if (ly1 == ly0) {
        ly1 += 1;
      }
    } else {
      ly0 = Math.min(0, ymin);
      ly1 = ymax == ly0 ? ly0 + 1 : ymax * 1.1;
    }
    final double fx0 = xmin;
    final double fx1 = xmax;
    final double fy0 = ly0;
    final double fy1 = ly1;
    java.util.function.DoubleUnaryOperator px =
        v -> LEFT + (v - fx0) / (fx1 - fx0) * (W - LEFT - RIGHT);
    java.util.function.DoubleUnaryOperator py =
        v -> {
          double t = logY ? Math.log10(v) : v;
          return TOP + (1 - (t - fy0) / (fy1 - fy0)) * (H - TOP - BOTTOM);
        };
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">%n",
            W,
            H,
            W,
            H,
            esc(title)));
    b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    b.append(text(W / 2.0, 18, title, "middle", 14, "bold"));
    // axes and ticks
    b.append(line(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, "#333", 1, ""));
    b.append(line(LEFT, TOP, LEFT, H - BOTTOM, "#333", 1, ""));
    if (logY) {
      for (double e = fy0; e <= fy1; e++) {
        double y = py.applyAsDouble(Math.pow(10, e));
        b.append(line(LEFT, y, W - RIGHT, y, "#ddd", 1, ""));
        b.append(
            text(
                LEFT - 6, y + 4, String.format(Locale.ROOT, "1e%d", (int) e), "end", 11, "normal"));
      }
    } else {
      for (int i = 0; i <= 5; i++) {
        double v = fy0 + (fy1 - fy0) * i / 5;
        double y = py.applyAsDouble(v);
        b.append(line(LEFT, y, W - RIGHT, y, "#ddd", 1, ""));
        b.append(text(LEFT - 6, y + 4, fmt(v), "end", 11, "normal"));
      }
    }
    for (int i = 0; i <= 5; i++) {
      double v = fx0 + (fx1 - fx0) * i / 5;
      double x = px.applyAsDouble(v);
      b.append(line(x, H - BOTTOM, x, H - BOTTOM + 5, "#333", 1, ""));
      b.append(text(x, H - BOTTOM + 18, fmt(v), "middle", 11, "normal"));
    }
    b.append(text(W / 2.0, H - 8, xLabel, "middle", 12, "normal"));
    b.append(
        String.format(
            Locale.ROOT,
            "<text x=\"14\" y=\"%.1f\" font-size=\"12\" font-family=\"sans-serif\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s</text>%n",
            (TOP + H - BOTTOM) / 2.0,
            (TOP + H - BOTTOM) / 2.0,
            esc(yLabel)));
    for (HLine h : hlines) {
      double y = py.applyAsDouble(h.y());
      b.append(line(LEFT, y, W - RIGHT, y, h.color(), 2, "6,4"));
    }
    for (Series s : series) {
      StringBuilder path = new StringBuilder();
      for (int i = 0; i < s.x().length; i++) {
        if (logY && !(s.y()[i] > 0)) {
          continue;
        }
        double x = px.applyAsDouble(s.x()[i]);
        double y = py.applyAsDouble(s.y()[i]);
        if (s.line()) {
          path.append(path.isEmpty() ? "M" : "L")
              .append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        b.append(
            String.format(
                Locale.ROOT,
                "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" %s><title>%s: %s</title></circle>%n",
                x,
                y,
                s.ring() ? "5.5" : "3",
                s.ring()
                    ? "fill=\"none\" stroke=\"" + s.color() + "\" stroke-width=\"2\""
                    : "fill=\"" + s.color() + "\"",
                esc(s.name()),
                fmt(s.y()[i])));
      }
      if (!path.isEmpty()) {
        b.append(
            String.format(
                "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n",
                path.toString().strip(), s.color()));
      }
    }
    // legend
    double lx = LEFT + 10;
    for (Series s : series) {
      b.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\"/>",
              lx,
              TOP + 8,
              s.color()));
      b.append(text(lx + 9, TOP + 12, s.name(), "start", 11, "normal"));
      lx += 20 + 7 * s.name().length();
    }
    for (HLine h : hlines) {
      b.append(line(lx, TOP + 8, lx + 18, TOP + 8, h.color(), 2, "6,4"));
      b.append(text(lx + 22, TOP + 12, h.name(), "start", 11, "normal"));
      lx += 30 + 7 * h.name().length();
    }
    b.append("</svg>\n");
    return b.toString();
  }

  private static String line(
      double x1, double y1, double x2, double y2, String color, int width, String dash) {
    return String.format(
        Locale.ROOT,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\"%s/>%n",
        x1,
        y1,
        x2,
        y2,
        color,
        width,
        dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"");
  }

  private static String text(double x, double y, String s, String anchor, int size, String weight) {
    return String.format(
        Locale.ROOT,
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" font-weight=\"%s\" font-family=\"sans-serif\" text-anchor=\"%s\">%s</text>%n",
        x,
        y,
        size,
        weight,
        anchor,
        esc(s));
  }

  static String fmt(double v) {
    double a = Math.abs(v);
    if (a != 0 && (a < 1e-2 || a >= 1e5)) {
      return String.format(Locale.ROOT, "%.2e", v);
    }
    return String.format(Locale.ROOT, a >= 100 ? "%.0f" : "%.3g", v);
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
