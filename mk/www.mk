# The browser app (www/): a Vite app on the npm package in $(SANDRUN_PKG) (default pkg/, built by
# `make pkg`), mapped by an alias in www/vite.config.js (no npm install; Vite comes from tools/).
#   make www        build www/dist (static files; open index.html?endpoint=URL from any server)
#   make www-dev    Vite's dev server against a local signing dev-node worker on $(WWW_WORKER_PORT)
#   make test-www   the app in headless Chromium against dev nodes (tests/www/run.mjs)
SANDRUN_PKG ?= pkg
WWW_PORT ?= 5173
WWW_WORKER_PORT ?= 8443
VITE := node tools/node_modules/vite/bin/vite.js
.PHONY: www www-dev test-www
TEST_STEPS += test-www
PKG_STEPS += test-www

www: $(call DEPS,setup)
	@SANDRUN_PKG=$(SANDRUN_PKG) $(VITE) build www --logLevel warn
	@echo "www: built www/dist from the package in $(SANDRUN_PKG)"

www-dev: $(call DEPS,setup devnode)
	@mkdir -p .devnode; [ -f .devnode/www-worker.pem ] || $(DEVNODE) --generate-key .devnode/www-worker.pem >/dev/null
	@trap 'scripts/devnode.sh stop www' EXIT; \
	REUSE=1 scripts/devnode.sh start www $(WWW_WORKER_PORT) worker --port $(WWW_WORKER_PORT) --worker-key .devnode/www-worker.pem; \
	echo "www-dev: open http://127.0.0.1:$(WWW_PORT)/?endpoint=http://127.0.0.1:$(WWW_WORKER_PORT)"; \
	SANDRUN_PKG=$(SANDRUN_PKG) $(VITE) www --host 127.0.0.1 --port $(WWW_PORT) --strictPort

test-www: $(call DEPS,setup devnode)
	@SANDRUN_PKG=$(SANDRUN_PKG) node tests/www/run.mjs
