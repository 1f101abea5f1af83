// Where the plugin's messages go. IPluginRegistry::loadLibrary hands the library an ILoggerFinder
// (exported setLoggerFinder); a self-registered library has none and uses TensorRT's global logger.
#pragma once

#include <NvInferRuntime.h>

namespace sketchrt::plugin {

// Called by the exported setLoggerFinder; the first non-null finder wins (as in TensorRT's plugins).
void setPluginLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

// One line, prefixed "SketchMatMul: " unless it already is. Never throws.
void logPluginMessage(nvinfer1::ILogger::Severity severity, char const* message) noexcept;
void logPluginError(char const* message) noexcept;

}  // namespace sketchrt::plugin
