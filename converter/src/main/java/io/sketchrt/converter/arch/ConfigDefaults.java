package io.sketchrt.converter.arch;

/**
 * A family's defaults for {@code config.json} keys that may be absent, as its transformers config
 * class sets them.
 *
 * @param modelType {@code model_type}, also the ONNX producer suffix
 * @param maxPositions {@code max_position_embeddings}
 * @param rmsNormEps {@code rms_norm_eps}
 * @param qkvBias whether q/k/v always have biases, whatever {@code attention_bias} says
 * @param bosTokenId {@code bos_token_id}, or null for none
 * @param eosTokenId {@code eos_token_id}, or null for none
 */
public record ConfigDefaults(
    String modelType,
    int maxPositions,
    double rmsNormEps,
    boolean qkvBias,
    Integer bosTokenId,
    Integer eosTokenId) {}
