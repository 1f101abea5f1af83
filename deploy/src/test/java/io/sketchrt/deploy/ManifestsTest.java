package io.sketchrt.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sketchrt.format.ServeContract;
import io.sketchrt.format.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Kubernetes manifests in {@code deploy/k8s/} and the image's Jib settings agree with what
 * {@code sketchrt serve} promises ({@link ServeContract}): the port, the probes on the health path,
 * the drain within the termination grace, the metrics path and the autoscaler's gauge.
 */
class ManifestsTest {
  private static final Path K8S = TestData.committed("deploy/k8s");

  @Test
  void theContainerRunsServeOnTheContractPort() throws Exception {
    Map<String, Object> container = container();
    List<Object> args = list(container, "args");
    assertEquals("serve", args.getFirst());
    assertEquals(String.valueOf(ServeContract.PORT), args.get(args.indexOf("--port") + 1));
    assertEquals(ServeContract.PORT, portNumber(container, "http"));
  }

  @Test
  void everyProbeAsksTheHealthPathOnThatPort() throws Exception {
    Map<String, Object> container = container();
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      Map<String, Object> get = map(map(container, probe), "httpGet");
      assertEquals(ServeContract.HEALTH_PATH, get.get("path"), probe);
      assertEquals(ServeContract.PORT, resolve(container, get.get("port")), probe);
    }
    // a loading model answers 503: liveness must not start before the startup probe passed
    Map<String, Object> startup = map(container, "startupProbe");
    assertTrue(
        (int) startup.get("periodSeconds") * (int) startup.get("failureThreshold") >= 120,
        "the startup probe allows at least two minutes to load the model");
  }

  @Test
  void theTerminationGraceCoversTheDrain() throws Exception {
    Map<String, Object> pod = podSpec();
    assertEquals(
        ServeContract.DRAIN_GRACE_SECONDS + ServeContract.EXIT_MARGIN_SECONDS,
        pod.get("terminationGracePeriodSeconds"));
  }

  @Test
  void resourcesAndTheModelVolumeAreSet() throws Exception {
    Map<String, Object> container = container();
    Map<String, Object> resources = map(container, "resources");
    assertNotNull(map(resources, "requests").get("memory"));
    assertNotNull(map(resources, "requests").get("cpu"));
    assertNotNull(map(resources, "limits").get("memory"));
    List<Object> args = list(container, "args");
    String model = (String) args.get(args.indexOf("--model") + 1);
    Map<String, Object> mount =
        list(container, "volumeMounts").stream()
            .map(ManifestsTest::asMap)
            .filter(m -> model.startsWith(m.get("mountPath") + "/"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("--model " + model + " is on no volume"));
    Map<String, Object> volume =
        list(podSpec(), "volumes").stream()
            .map(ManifestsTest::asMap)
            .filter(v -> v.get("name").equals(mount.get("name")))
            .findFirst()
            .orElseThrow();
    String claim = (String) map(volume, "persistentVolumeClaim").get("claimName");
    assertEquals(claim, map(load("model-pvc.yaml"), "metadata").get("name"));
  }

  @Test
  void theServiceReachesTheReadyPodsPort() throws Exception {
    Map<String, Object> service = load("service.yaml");
    Map<String, Object> spec = map(service, "spec");
    Map<String, Object> labels =
        map(map(map(map(load("deployment.yaml"), "spec"), "template"), "metadata"), "labels");
    for (Map.Entry<String, Object> e : map(spec, "selector").entrySet()) {
      assertEquals(e.getValue(), labels.get(e.getKey()), "selector " + e.getKey());
    }
    Object target = asMap(list(spec, "ports").getFirst()).get("targetPort");
    assertEquals(ServeContract.PORT, resolve(container(), target));
  }

  @Test
  void prometheusScrapesTheMetricsPath() throws Exception {
    Map<String, Object> annotations =
        map(map(map(map(load("deployment.yaml"), "spec"), "template"), "metadata"), "annotations");
    assertEquals("true", annotations.get("prometheus.io/scrape"));
    assertEquals(String.valueOf(ServeContract.PORT), annotations.get("prometheus.io/port"));
    assertEquals(ServeContract.METRICS_PATH, annotations.get("prometheus.io/path"));
  }

  @Test
  void theAutoscalerReadsTheQueueGaugeOfThisDeployment() throws Exception {
    Map<String, Object> hpa = map(load("hpa.yaml"), "spec");
    assertEquals("Deployment", map(hpa, "scaleTargetRef").get("kind"));
    assertEquals(
        map(load("deployment.yaml"), "metadata").get("name"),
        map(hpa, "scaleTargetRef").get("name"));
    Map<String, Object> metric = asMap(list(hpa, "metrics").getFirst());
    assertEquals("Pods", metric.get("type"));
    assertEquals(ServeContract.REQUESTS_WAITING, map(map(metric, "pods"), "metric").get("name"));
    // prometheus-adapter must serve that very name from that series
    String adapter = (String) map(load("prometheus-adapter-rules.yaml"), "data").get("config.yaml");
    Map<String, Object> rule =
        asMap(
            list(new Yaml(new SafeConstructor(new LoaderOptions())).load(adapter), "rules")
                .getFirst());
    assertTrue(((String) rule.get("seriesQuery")).startsWith(ServeContract.REQUESTS_WAITING + "{"));
    assertEquals(ServeContract.REQUESTS_WAITING, map(rule, "name").get("as"));
  }

  @Test
  void theImageExposesTheContractPortAndRunsServe() throws Exception {
    Document pom =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(TestData.committed("deploy/pom.xml").toFile());
    NodeList ports = pom.getElementsByTagName("port");
    assertEquals(1, ports.getLength());
    assertEquals(String.valueOf(ServeContract.PORT), ports.item(0).getTextContent().strip());
    NodeList args = pom.getElementsByTagName("arg");
    assertEquals("serve", args.item(0).getTextContent().strip());
    List<Object> deploymentArgs = list(container(), "args");
    assertEquals(deploymentArgs.size(), args.getLength());
    for (int i = 0; i < args.getLength(); i++) {
      assertEquals(deploymentArgs.get(i), args.item(i).getTextContent().strip(), "arg " + i);
    }
  }

  private static Map<String, Object> podSpec() throws IOException {
    return map(map(map(load("deployment.yaml"), "spec"), "template"), "spec");
  }

  private static Map<String, Object> container() throws IOException {
    return asMap(list(podSpec(), "containers").getFirst());
  }

  /** A probe's or Service's port: a number, or the name of one of the container's ports. */
  private static int resolve(Map<String, Object> container, Object port) {
    return port instanceof Integer n ? n : portNumber(container, (String) port);
  }

  private static int portNumber(Map<String, Object> container, String name) {
    return list(container, "ports").stream()
        .map(ManifestsTest::asMap)
        .filter(p -> name.equals(p.get("name")))
        .map(p -> (Integer) p.get("containerPort"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + name));
  }

  private static Map<String, Object> load(String file) throws IOException {
    return asMap(
        new Yaml(new SafeConstructor(new LoaderOptions()))
            .load(Files.readString(K8S.resolve(file))));
  }

  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertNotNull(v, "no " + key + " in " + m.keySet());
    return asMap(v);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertNotNull(v, "no " + key + " in " + m.keySet());
    return (List<Object>) v;
  }
}
