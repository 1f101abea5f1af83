# One entry point for the whole test suite: the Java reactor (JDK 25), the CUDA kernels' CPU tests
# and the TensorRT plugin's tests. TENSORRT_ROOT=DIR (include/ + lib/ of TensorRT 10 or 11) adds
# the plugin's TensorRT layer and its tests against the real libnvinfer; without it they are skipped.
SHELL := /bin/bash
TENSORRT_ROOT ?=

.PHONY: test java-test kernels-test trt-plugins-test clean

test: java-test kernels-test trt-plugins-test

java-test:
	source .ci/java-home.sh && mvn -B -ntp verify; status=$$?; python3 .ci/list-skipped.py; exit $$status

kernels-test:
	@if [[ -f kernels/CMakeLists.txt ]]; then \
	  cmake -S kernels -B kernels/build -DCMAKE_BUILD_TYPE=Release && \
	  cmake --build kernels/build -j2 && \
	  ctest --test-dir kernels/build --output-on-failure; \
	else echo "kernels: no CMake project yet"; fi

trt-plugins-test:
	cmake -S trt-plugins -B trt-plugins/build -DCMAKE_BUILD_TYPE=Release -DTENSORRT_ROOT="$(TENSORRT_ROOT)" && \
	cmake --build trt-plugins/build -j2 && \
	ctest --test-dir trt-plugins/build --output-on-failure

clean:
	source .ci/java-home.sh && mvn -B -q clean
	rm -rf kernels/build trt-plugins/build
