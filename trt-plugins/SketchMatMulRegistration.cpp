// Self-registration (libsketchrt_trt_plugin.so): the creator enters TensorRT's global plugin
// registry when the library is loaded (dlopen, LD_PRELOAD, linking, ONNX Runtime's TensorRT
// execution provider with trt_extra_plugin_lib_paths). This library deliberately does not export
// getCreators: IPluginRegistry::loadLibrary would register the creator a second time and fail.
#include "SketchMatMulPlugin.h"

using sketchrt::plugin::SketchMatMulPluginCreator;

REGISTER_TENSORRT_PLUGIN(SketchMatMulPluginCreator);
