# latent: the two commands README.md starts with, and a few more.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
LATENT := .build/release/latent

.PHONY: demo test build setup bench-convert clean

## Installs system packages if missing, builds, and runs the main job on samples/.
demo: setup build
	rm -rf out/demo
	$(LATENT) convert samples -o out/demo --fit 128
	@echo "outputs in out/demo:"; find out/demo -name '*.png' | sort | sed 's/^/  /'

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
