#!/usr/bin/env bash
# FIgLib, the HPWREN Fire Ignition images Library (UC San Diego): ~25,000 frames of ~315 fires
# seen by HPWREN lookout cameras, one frame a minute from 40 minutes before to 40 minutes after
# the reported ignition; file names are <unix time>_<offset from ignition in s>.jpg.
# FIgLib itself labels frames only as before/after ignition. Smoke boxes for part of it come
# from HPWREN-BB (Pascal VOC xml, same CDN). This script makes:
#   - negatives: every pre-ignition frame of the chosen fires (true same-view negatives);
#   - positives: the frames that have an HPWREN-BB box.
#
# Licence: HPWREN imagery is distributed for research and education with attribution ("HPWREN,
# UC San Diego; FIgLib"); no licence file accompanies the archive: check with HPWREN before any
# other use. Cite Dewangan et al., "FIgLib & SmokeyNet", Remote Sensing 14(4):1007, 2022.
#
# Usage: datasets/fetch_figlib.sh [OUT_DIR] FIRE...   e.g.
#   datasets/fetch_figlib.sh data/figlib 20190529_94Fire_lp-s-mobo-c 20200806_SpringsFire_lp-w-mobo-c
# FIRE names are the .tgz names of $FIGLIB_BASE/Tar/index.html without the extension; the
# complete list is the index page. The VOC boxes are fetched from $FIGLIB_BASE/Miscellaneous/
# Labels/HPWREN-BB/VOC/<FIRE>.tgz when that file exists. Frames of one fire go to one split
# (SPLIT=train by default): never split a fire between train and val, its frames are near-copies.
source "$(dirname "$0")/_fetch_common.sh"

FIGLIB_BASE=${FIGLIB_BASE:-https://cdn.hpwren.ucsd.edu/HPWREN-FIgLib-Data}
OUT=${1:?usage: fetch_figlib.sh OUT_DIR FIRE...}
shift
(($#)) || die "name at least one fire (see $FIGLIB_BASE/Tar/index.html)"
SPLIT=${SPLIT:-train}
need curl tar "$VIGIFEU"

for fire in "$@"; do
    download "$FIGLIB_BASE/Tar/$fire.tgz" "$OUT/download/$fire.tgz"
    unpack "$OUT/download/$fire.tgz" "$OUT/raw"
    if curl --fail --silent --head "$FIGLIB_BASE/Miscellaneous/Labels/HPWREN-BB/VOC/$fire.tgz" >/dev/null; then
        download "$FIGLIB_BASE/Miscellaneous/Labels/HPWREN-BB/VOC/$fire.tgz" "$OUT/download/$fire-voc.tgz"
        unpack "$OUT/download/$fire-voc.tgz" "$OUT/voc/$fire"
        frames=$(find "$OUT/raw" -type d -name "$fire" -print -quit)
        "$VIGIFEU" dataset convert --format voc --source "$OUT/voc/$fire" --images "$frames" \
            --split "$SPLIT" --out "$OUT/yolo" --classes '*=smoke' --prefix "figlib_${fire}_"
    else
        echo "no HPWREN-BB boxes for $fire: its pre-ignition negatives only"
    fi
done
"$VIGIFEU" dataset convert --format figlib --source "$OUT/raw" --split "$SPLIT" \
    --out "$OUT/yolo" --classes '*=drop' --prefix figlib_
check_dataset "$OUT/yolo"
