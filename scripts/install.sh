#!/bin/sh
# Builds the `tipi` tool and puts it in ~/.local/bin (or PREFIX/bin), then says whether that folder is on
# PATH and, if not, the line to add to your shell profile. Run it again to update; it replaces the copy.
#
#   scripts/install.sh [--prefix DIR] [--debug] [--scratch-path DIR]
#
# The `tipi` product does not depend on swift-syntax, so a release build compiles only Tipi, swift-log and
# swift-argument-parser (about a minute). --debug builds faster; --scratch-path keeps the build elsewhere.
set -eu

usage() {
    echo "usage: scripts/install.sh [--prefix DIR] [--debug] [--scratch-path DIR]"
    echo "  --prefix DIR        install into DIR/bin (default: ~/.local)"
    echo "  --debug             build in debug (default: release)"
    echo "  --scratch-path DIR  SwiftPM's build folder (default: the package's .build)"
}

prefix="${HOME:?HOME is not set; pass --prefix DIR}/.local"
configuration=release
scratch=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix|--scratch-path)
            if [ $# -lt 2 ] || [ -z "$2" ]; then
                echo "install.sh: $1 needs a folder, e.g. $1 ~/.local" >&2
                exit 64
            fi
            if [ "$1" = --prefix ]; then prefix=$2; else scratch=$2; fi
            shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --scratch-path=*) scratch=${1#--scratch-path=}; shift ;;
        --debug) configuration=debug; shift ;;
        --release) configuration=release; shift ;;
        -h|--help) usage; exit 0 ;;
        *)
            echo "install.sh: unknown argument '$1'; expected --prefix DIR, --debug or --scratch-path DIR" >&2
            exit 64 ;;
    esac
done

if ! command -v swift >/dev/null 2>&1; then
    echo "install.sh: swift is not on PATH; install a Swift toolchain (swift.org/install) first" >&2
    exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mkdir -p "$prefix/bin" && cd "$prefix/bin" && pwd) || {
    echo "install.sh: cannot create $prefix/bin; pass --prefix with a folder you can write" >&2
    exit 1
}
set -- -c "$configuration" --package-path "$root"
if [ -n "$scratch" ]; then set -- "$@" --scratch-path "$scratch"; fi

echo "building tipi ($configuration)…"
log=$(mktemp "${TMPDIR:-/tmp}/tipi-install.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! swift build "$@" --product tipi >"$log" 2>&1; then
    cat "$log" >&2
    echo "install.sh: building tipi failed; the compiler's messages are above" >&2
    exit 1
fi
built="$(swift build "$@" --show-bin-path)/tipi"

# A copy (not a link): it keeps working after `swift package clean`. Written beside, then renamed over the
# old one, so a running tipi is never half-replaced.
cp "$built" "$bin/.tipi.new"
chmod 755 "$bin/.tipi.new"
mv -f "$bin/.tipi.new" "$bin/tipi"
echo "installed $bin/tipi ($("$bin/tipi" --version))"

case ":${PATH:-}:" in
    *":$bin:"*|*":$bin/:"*)
        found=$(command -v tipi || true)
        if [ "$found" != "$bin/tipi" ] && [ -n "$found" ]; then
            echo "note: $found comes first on PATH and is the tipi your shell runs; remove it or put $bin before it"
        else
            echo "$bin is on PATH: run \`tipi --help\`"
        fi ;;
    *)
        case "${SHELL:-}" in
            */zsh) profile="~/.zshrc" ;;
            */bash) profile="~/.bashrc" ;;
            */fish) profile="~/.config/fish/config.fish" ;;
            *) profile="~/.profile" ;;
        esac
        echo "$bin is not on PATH; add it to your shell profile ($profile), then open a new shell:"
        if [ "$profile" = "~/.config/fish/config.fish" ]; then
            echo "  fish_add_path $bin"
        else
            echo "  export PATH=\"$bin:\$PATH\""
        fi
        echo "until then, run it as $bin/tipi" ;;
esac
