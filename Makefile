# latent: the two commands README.md starts with, and a few more.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
# Optimised C kernels in every build of latent itself (see Package.swift).
export LATENT_DEV := 1
LATENT := .build/release/latent

.PHONY: demo test build setup bench-convert gallery clean sanitize fuzz install

## Installs system packages if missing, builds, and runs the main job on samples/: denoises the
## photos with real camera noise with the built-in colour model (the default for RGB images) and
## the noisy digits with the built-in MNIST model, each with a side-by-side comparison.
demo: setup build
	rm -rf out/demo
	$(LATENT) denoise samples/noisy-photos -o out/demo/photos --sheet out/demo/photos.png
	$(LATENT) denoise samples/noisy-digits -o out/demo/denoised --model mnist-dae --sheet out/demo/comparison.png
	@echo "open out/demo/photos.png      (left: a real noisy photo, right: denoised by photo-color)"
	@echo "open out/demo/comparison.png  (left: noisy digit, right: denoised by mnist-dae)"

## Runs the test suite (needs no ../shared).
test: setup
	swift build --build-tests
	swift test

## Runs the test suite under ThreadSanitizer, then AddressSanitizer (separate build folders).
## Without set12WhenPresent, the one test of the classical estimator's accuracy on ../shared's
## Set12 (single-threaded, on code the synthetic tests cover too): unoptimised and sanitised it
## took 635 s of a 770 s ThreadSanitizer run on a 2 GHz machine. `make test` runs it.
## ThreadSanitizer also leaves out two groups that start no thread, where it has nothing to find
## and which cost it most: CameraNoiseTests (the statistics of the synthetic camera noise, loops
## of Monte Carlo draws in Swift) and craftedFileIsRefused (74 hostile model files, each refused
## by the CLI before any thread starts). Together 161 s of 2 cores under it (session 44); the
## AddressSanitizer run and `make test` keep them, and the model fuzzer reads such files too.
SANITIZE_SKIP := --skip set12WhenPresent
TSAN_SKIP := $(SANITIZE_SKIP) --skip CameraNoiseTests --skip craftedFileIsRefused
sanitize: setup
	swift build --build-tests --sanitize=thread --build-path .build-tsan
	swift test --skip-build --sanitize=thread --build-path .build-tsan $(TSAN_SKIP)
	ASAN_OPTIONS=detect_leaks=0 swift build --build-tests --sanitize=address --build-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --build-path .build-asan $(SANITIZE_SKIP)

## Builds the fuzz targets (libFuzzer + AddressSanitizer) and runs each for FUZZ_SECONDS; fails on
## any crash, leak, out-of-memory (512 MB) or hang (10 s). See fuzz/README.md.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -c release --build-path .build-fuzz -Xswiftc -sanitize=address,fuzzer -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address
fuzz: setup
	swift build $(FUZZ_FLAGS) --product fuzz-png 2>&1 | grep -v "Cannot export local symbol"; test $${PIPESTATUS[0]} -eq 0
	swift build $(FUZZ_FLAGS) --product fuzz-model 2>&1 | grep -v "Cannot export local symbol"; test $${PIPESTATUS[0]} -eq 0
	mkdir -p .build-fuzz/corpus/png .build-fuzz/corpus/model .build-fuzz/artifacts
	ASAN_OPTIONS=quarantine_size_mb=32 .build-fuzz/release/fuzz-png -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -timeout=10 \
	  -dict=fuzz/png.dict -artifact_prefix=.build-fuzz/artifacts/ -print_final_stats=1 .build-fuzz/corpus/png fuzz/corpus/png
	ASAN_OPTIONS=quarantine_size_mb=32 .build-fuzz/release/fuzz-model -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 -timeout=10 \
	  -max_len=65536 -dict=fuzz/model.dict -artifact_prefix=.build-fuzz/artifacts/ -print_final_stats=1 .build-fuzz/corpus/model fuzz/corpus/model

setup:
	@scripts/setup.sh

build:
	swift build -c release --product latent

## latent convert vs ImageMagick's mogrify on 10,000 MNIST PNGs (needs ../shared).
bench-convert: setup build
	bench/convert_vs_mogrify.sh

## Regenerates the README gallery from the built-in models.
gallery: build
	mkdir -p docs/gallery
	$(LATENT) traverse --model mnist-vae --dims 8 --steps 9 --scale 2 -o docs/gallery/traverse.png -q
	$(LATENT) manifold --model mnist-vae2d --steps 15 --scale 1 -o docs/gallery/manifold.png -q
	$(LATENT) interpolate samples/digits/digit-0.png samples/digits/digit-1.png samples/digits/digit-3.png --model mnist-vae --steps 8 --scale 2 -o docs/gallery/interpolate.png -q
	$(LATENT) sample --model mnist-vae --count 48 --columns 12 --scale 2 --seed 3 -o docs/gallery/samples.png -q
	$(LATENT) compare samples/digits --model mnist-dae --noise gaussian:0.5 --scale 2 -o docs/gallery/compare-dae.png -q

clean:
	rm -rf .build out

## Installs latent under PREFIX (default /usr/local): the binary, the built-in models
## (PREFIX/share/latent/models, found beside the binary), a man page and shell completions.
## The installed binary needs neither the source tree nor the build folder.
PREFIX ?= /usr/local
install: build
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/latent/models" "$(DESTDIR)$(PREFIX)/share/man/man1" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	install -m 755 $(LATENT) "$(DESTDIR)$(PREFIX)/bin/latent"
	install -m 644 Sources/Models/Builtin/*.safetensors "$(DESTDIR)$(PREFIX)/share/latent/models/"
	mkdir -p .build/man
	swift package plugin --allow-writing-to-directory .build/man generate-manual --output-directory .build/man >/dev/null
	install -m 644 .build/man/latent.1 "$(DESTDIR)$(PREFIX)/share/man/man1/latent.1"
	$(LATENT) --generate-completion-script bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/latent"
	$(LATENT) --generate-completion-script zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_latent"
	$(LATENT) --generate-completion-script fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/latent.fish"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/latent (models in $(DESTDIR)$(PREFIX)/share/latent/models)"
