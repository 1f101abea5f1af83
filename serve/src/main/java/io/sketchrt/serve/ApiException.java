package io.sketchrt.serve;

/**
 * An error answered with the OpenAI body {@code {"error": {"message", "type", "param", "code"}}}
 * and its HTTP status. The one owner of the statuses, types and codes the server answers with.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String type;
  private final String param;
  private final String code;

  private ApiException(int status, String type, String code, String param, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  /** 400: malformed JSON, a bad value ({@code param} names the field), a prompt too long. */
  public static ApiException badRequest(String param, String message) {
    return new ApiException(400, "invalid_request_error", null, param, message);
  }

  /** 401: a key is set and the request's is missing or wrong. */
  public static ApiException unauthorized(String message) {
    return new ApiException(401, "invalid_request_error", "invalid_api_key", null, message);
  }

  /** 404: an unknown model (tuned set), named in the message, or an unknown path. */
  public static ApiException notFound(String param, String code, String message) {
    return new ApiException(404, "invalid_request_error", code, param, message);
  }

  /** 405: a known path with another method. */
  public static ApiException methodNotAllowed(String method, String path) {
    return new ApiException(
        405, "invalid_request_error", null, null, method + " is not allowed on " + path);
  }

  /** 429: more requests at once than the batch and the queue hold; Retry-After goes with it. */
  public static ApiException tooManyRequests(String message) {
    return new ApiException(429, "rate_limit_error", "rate_limit_exceeded", null, message);
  }

  /** 503: the model is loading, or the server is draining. */
  public static ApiException unavailable(String message) {
    return new ApiException(503, "service_unavailable", "service_unavailable", null, message);
  }

  /** 500: the engine failed (a native error); the message says what it said. */
  public static ApiException internal(String message) {
    return new ApiException(500, "server_error", "internal_error", null, message);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String param() {
    return param;
  }

  public String code() {
    return code;
  }
}
