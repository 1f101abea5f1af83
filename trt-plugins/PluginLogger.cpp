#include "PluginLogger.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

namespace sketchrt::plugin {

namespace {
std::atomic<nvinfer1::ILoggerFinder*> gLoggerFinder{nullptr};

// The logger of the engine/context calling us (loadLibrary route), else TensorRT's global one.
nvinfer1::ILogger* currentLogger() noexcept {
    nvinfer1::ILoggerFinder* finder = gLoggerFinder.load();
    if (finder != nullptr) {
        try {
#if NV_TENSORRT_MAJOR >= 11
            // TensorRT 11 versions the interface: use it only if it is the one this code knows.
            nvinfer1::InterfaceInfo const info = finder->getInterfaceInfo();
            bool const known = info.kind != nullptr && std::strcmp(info.kind, "ILoggerFinder") == 0 && info.major == 1;
#else
            bool const known = true;  // TensorRT 10's ILoggerFinder is not versioned
#endif
            if (known) {
                if (nvinfer1::ILogger* logger = finder->findLogger()) return logger;
            }
        } catch (...) {
            // fall through to the global logger
        }
    }
    return getLogger();
}
}  // namespace

void setPluginLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept {
    nvinfer1::ILoggerFinder* expected = nullptr;
    if (finder != nullptr) gLoggerFinder.compare_exchange_strong(expected, finder);
}

void logPluginMessage(nvinfer1::ILogger::Severity severity, char const* message) noexcept {
    try {
        std::string line = message == nullptr ? std::string("(no message)") : std::string(message);
        if (line.rfind("SketchMatMul", 0) != 0) line = "SketchMatMul: " + line;
        if (nvinfer1::ILogger* logger = currentLogger()) {
            logger->log(severity, line.c_str());
        } else {
            std::fprintf(stderr, "%s\n", line.c_str());
        }
    } catch (...) {
        std::fputs("SketchMatMul: (failed to format a log message)\n", stderr);
    }
}

void logPluginError(char const* message) noexcept { logPluginMessage(nvinfer1::ILogger::Severity::kERROR, message); }

}  // namespace sketchrt::plugin
