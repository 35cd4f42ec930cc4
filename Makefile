# latent: the two commands README.md starts with, and a few more.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
LATENT := .build/release/latent

.PHONY: demo test build setup bench-convert clean

## Installs system packages if missing, builds, and runs the main job on samples/: denoises the
## noisy digits with the built-in model and writes a side-by-side comparison.
demo: setup build
	rm -rf out/demo
	$(LATENT) denoise samples/noisy-digits -o out/demo/denoised --model mnist-dae --sheet out/demo/comparison.png
	@echo "open out/demo/comparison.png  (left: noisy input, right: denoised by mnist-dae)"

## Runs the test suite (needs no ../shared).
test: setup
	swift build --build-tests
	swift test

setup:
	@scripts/setup.sh

build:
	swift build -c release --product latent

## latent convert vs ImageMagick's mogrify on 10,000 MNIST PNGs (needs ../shared).
bench-convert: setup build
	bench/convert_vs_mogrify.sh

clean:
	rm -rf .build out
