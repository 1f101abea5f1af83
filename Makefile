# One entry point for the whole test suite: the Python reference's own tests, the Java reactor
# (JDK 25), the CUDA kernels' CPU tests and the TensorRT plugin's tests. TENSORRT_ROOT=DIR
# (include/ + lib/ of TensorRT 10 or 11) adds the plugin's TensorRT layer and its tests against the
# real libnvinfer; without it they are skipped, saying so.
SHELL := /bin/bash
TENSORRT_ROOT ?=

.PHONY: test python-test java-test kernels-test trt-plugins-test clean

test: python-test java-test kernels-test trt-plugins-test

# The package validation/reference (sketchrt_ref) must be installed from this checkout
# (.ci/python-deps.sh does it), or the tests would run another checkout's code.
python-test:
	@python3 -c "import os, sketchrt_ref; assert os.path.realpath(sketchrt_ref.__file__) == \
	  os.path.realpath('validation/reference/sketchrt_ref/__init__.py')" 2>/dev/null || { \
	  echo "python-test: sketchrt_ref is not installed from this checkout: run .ci/python-deps.sh" >&2; exit 1; }
	python3 -m pytest validation/reference

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
