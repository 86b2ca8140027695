# Documentation (docs/). Every ```js / ```ts block of docs/**/*.md and pkg-templates/README.md, and
# every examples/*/run.mjs, runs against dev nodes in `make test-docs` (tests/docs/run.mjs).
# `make docs` generates the API reference from the package's types ($(SANDRUN_PKG), default pkg/)
# with TypeDoc into $(DOCS_OUT) (git-ignored, under build/). TypeDoc needs a tsconfig naming the
# entry points; it is written next to the output because the package's path varies.
SANDRUN_PKG ?= pkg
DOCS_OUT ?= build/docs/api-reference
.PHONY: docs test-docs
TEST_STEPS += test-docs
PKG_STEPS += test-docs

docs: $(call DEPS,setup)
	@pkg=$$(realpath $(SANDRUN_PKG)); [ -f "$$pkg/index.d.ts" ] || { echo "docs: no package types in $$pkg (make pkg first)" >&2; exit 1; }; \
	mkdir -p $(DOCS_OUT); \
	printf '{"compilerOptions":{"strict":true,"target":"es2022","module":"nodenext","moduleResolution":"nodenext","lib":["es2022","dom","esnext.disposable"],"noEmit":true},"files":["%s/index.d.ts","%s/full/index.d.ts"]}\n' "$$pkg" "$$pkg" > $(DOCS_OUT)/../tsconfig.json; \
	node tools/node_modules/typedoc/bin/typedoc --tsconfig $(DOCS_OUT)/../tsconfig.json \
	  --entryPoints "$$pkg/index.d.ts" --entryPoints "$$pkg/full/index.d.ts" --readme "$$pkg/README.md" \
	  --name "@sandrun/sdk" --out $(DOCS_OUT) --disableSources --treatWarningsAsErrors --logLevel Warn
	@echo "docs: API reference in $(DOCS_OUT)/index.html"

test-docs: $(call DEPS,setup devnode)
	@SANDRUN_PKG=$(SANDRUN_PKG) node tests/docs/run.mjs
