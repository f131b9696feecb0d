# Shared helpers of the datasets/fetch_*.sh scripts (sourced, not run).
#
# The fetch scripts download a public dataset from its official source, then bring it into our
# YOLO layout with `vigifeu dataset convert` and check it with `vigifeu dataset check`. They need
# internet and are never run by the tests or at runtime (the converters are tested on tiny
# fixtures in the source formats, tests/unit/datasets).

set -euo pipefail

VIGIFEU=${VIGIFEU:-vigifeu}

die() {
    echo "error: $*" >&2
    exit 1
}

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed (install it first)"
    done
}

# download URL DEST [SHA256]: resumable; refuses a file whose sha256 differs when one is given.
download() {
    local url=$1 dest=$2 expected=${3:-}
    mkdir -p "$(dirname "$dest")"
    if [[ ! -s $dest ]]; then
        echo "downloading $url"
        curl --fail --location --retry 3 --connect-timeout 30 --continue-at - \
            --output "$dest.part" "$url"
        mv "$dest.part" "$dest"
    fi
    if [[ -n $expected ]]; then
        echo "$expected  $dest" | sha256sum --check --quiet || die "$dest: sha256 mismatch"
    fi
}

# unpack ARCHIVE DIR: zip, tar, tar.gz/tgz.
unpack() {
    local archive=$1 dir=$2
    mkdir -p "$dir"
    case $archive in
        *.zip) unzip -q -o "$archive" -d "$dir" ;;
        *.tar.gz | *.tgz | *.tar) tar -xf "$archive" -C "$dir" ;;
        *) die "$archive: unknown archive type" ;;
    esac
}

# check_dataset DIR [ARGS...]: the checker's JSON summary on stdout, every finding in DIR/check.json.
check_dataset() {
    local dir=$1
    shift
    "$VIGIFEU" dataset check "$dir" --report "$dir/check.json" "$@"
}
