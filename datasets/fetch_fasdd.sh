#!/usr/bin/env bash
# FASDD, Flame And Smoke Detection Dataset (Wang et al., Science Data Bank,
# doi:10.57760/sciencedb.j00104.00103): >120,000 images in three subsets, CV (ground cameras,
# incl. lookout towers), UAV and RS (satellite). Each zip holds images/ and annotations/ in YOLO,
# VOC, COCO and TDML formats, split 1/2 train, 1/3 val, 1/6 test, classes "fire" and "smoke".
# We convert the COCO json of the CV subset (the one closest to lookout cameras) by default.
#
# Licence: as stated on the Science Data Bank page (not verified from here; check it before any
# redistribution or commercial use); cite Wang et al. (Geo-spatial Information Science 2025).
#
# Science Data Bank serves files behind a browser page: download FASDD_CV.zip (and others if
# wanted) from https://doi.org/10.57760/sciencedb.j00104.00103 and pass it as FASDD_ZIP, or give
# a direct file URL as FASDD_URL.
#
# Usage: FASDD_ZIP=~/Downloads/FASDD_CV.zip datasets/fetch_fasdd.sh [OUT_DIR]   (default data/fasdd)
source "$(dirname "$0")/_fetch_common.sh"

OUT=${1:-data/fasdd}
need unzip "$VIGIFEU"
if [[ -n ${FASDD_ZIP:-} ]]; then
    archive=$FASDD_ZIP
elif [[ -n ${FASDD_URL:-} ]]; then
    archive=$OUT/download/$(basename "${FASDD_URL%%\?*}")
    download "$FASDD_URL" "$archive" "${FASDD_SHA256:-}"
else
    die "download FASDD_CV.zip from https://doi.org/10.57760/sciencedb.j00104.00103 and rerun with FASDD_ZIP=/path/to/FASDD_CV.zip"
fi
unpack "$archive" "$OUT/raw"

images=$(find "$OUT/raw" -maxdepth 3 -type d -name images -print -quit)
[[ -n $images ]] || die "no images/ folder in $archive"
found=0
for split in train val test; do
    json=$(find "$OUT/raw" -path '*COCO*' -name "${split}*.json" -print -quit)
    [[ -n $json ]] || continue
    found=1
    "$VIGIFEU" dataset convert --format coco --source "$json" --images "$images" \
        --split "$split" --out "$OUT/yolo" --classes fire=fire,smoke=smoke --prefix fasdd_
done
((found)) || die "no COCO train/val/test json under $OUT/raw"
check_dataset "$OUT/yolo"
