package io.sketchrt.format;

/**
 * What {@code sketchrt serve} promises the world around it (DESIGN sections 8 and 9): its port, its
 * health and metrics paths, the Prometheus gauges a Kubernetes autoscaler reads, and how long it
 * drains on SIGTERM. The server and the Kubernetes manifests in {@code deploy/k8s/} both take these
 * values from here (the manifests' test checks them), so neither can drift from the other.
 */
public final class ServeContract {
  private ServeContract() {}

  /** The port {@code serve} listens on by default, and the one the container exposes. */
  public static final int PORT = 8000;

  /**
   * 503 until the model is loaded and while draining, 200 otherwise: readiness, liveness and the
   * startup probe all ask it.
   */
  public static final String HEALTH_PATH = "/health";

  /** Prometheus text exposition of every {@code sketchrt_} metric. */
  public static final String METRICS_PATH = "/metrics";

  /** Gauge: requests queued for the engine, not yet in the batch; the autoscaler's signal. */
  public static final String REQUESTS_WAITING = "sketchrt_requests_waiting";

  /** Gauge: requests in the engine's batch now (prefilling or decoding). */
  public static final String REQUESTS_RUNNING = "sketchrt_requests_running";

  /**
   * After SIGTERM, {@code serve} answers 503 on {@link #HEALTH_PATH}, takes no new requests, lets
   * the running ones finish for up to this long, then exits 0.
   */
  public static final int DRAIN_GRACE_SECONDS = 30;

  /**
   * What a pod's {@code terminationGracePeriodSeconds} adds to the drain: time for the JVM to exit
   * after draining, before the kubelet's SIGKILL.
   */
  public static final int EXIT_MARGIN_SECONDS = 10;
}
