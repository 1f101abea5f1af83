package io.sketchrt.converter.arch;

/**
 * Rotary-embedding frequency scaling from {@code config.json}'s {@code rope_scaling}. Only the
 * Llama-3 scheme ({@code type} "llama3") is supported.
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) {}
