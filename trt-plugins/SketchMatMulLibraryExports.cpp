// Library entry points for IPluginRegistry::loadLibrary and `trtexec --dynamicPlugins`
// (libsketchrt_trt_plugin_dynamic.so). Nothing registers itself at load: TensorRT asks
// getCreators() and registers the creator, and deregisterLibrary() removes it again.
#include "PluginLogger.h"
#include "SketchMatMulPlugin.h"

#define SKETCHRT_PLUGIN_EXPORT __attribute__((visibility("default")))

extern "C" SKETCHRT_PLUGIN_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder) {
    sketchrt::plugin::setPluginLoggerFinder(finder);
}

extern "C" SKETCHRT_PLUGIN_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) {
    static sketchrt::plugin::SketchMatMulPluginCreator creator;
    static nvinfer1::IPluginCreatorInterface* const creators[] = {&creator};
    nbCreators = 1;
    return creators;
}
