#!/bin/sh
# Refresh the console's vendored front-end libraries from the npm registry (run by hand
# when a version changes; the output is committed, so `make run` needs no Node.js).
# Each library's licence is copied beside it.
set -eu
cd "$(dirname "$0")/.."
out=cdp/console/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/licenses"
fetch() {  # package@version
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  name=${1%@*}
  mkdir -p "$work/$name"
  tar xzf "$work"/"$(echo "$name" | tr -d @ | tr / -)"-*.tgz -C "$work/$name"
}
fetch graphiql@3.8.3
fetch react@18.2.0
fetch react-dom@18.2.0
fetch graphql-ws@6.0.6
cp "$work/graphiql/package/graphiql.min.js" "$work/graphiql/package/graphiql.min.css" "$out/"
cp "$work/react/package/umd/react.production.min.js" "$out/"
cp "$work/react-dom/package/umd/react-dom.production.min.js" "$out/"
cp "$work/graphql-ws/package/umd/graphql-ws.min.js" "$out/"
cp "$work/graphiql/package/LICENSE" "$out/licenses/graphiql.LICENSE"
cp "$work/react/package/LICENSE" "$out/licenses/react.LICENSE"
cp "$work/react-dom/package/LICENSE" "$out/licenses/react-dom.LICENSE"
cp "$work/graphql-ws/package/LICENSE.md" "$out/licenses/graphql-ws.LICENSE.md"
cat > "$out/VERSIONS" <<VERSIONS
graphiql 3.8.3 (MIT)
react 18.2.0 (MIT)
react-dom 18.2.0 (MIT)
graphql-ws 6.0.6 (MIT)
VERSIONS
echo "vendored into $out"
