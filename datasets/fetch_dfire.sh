#!/usr/bin/env bash
# D-Fire (gaiasd/DFireDataset): 21,527 images, YOLO labels 0=smoke 1=fire (14,692 fire and 11,865
# smoke boxes; 9,838 images without either). Mostly close and mid-range surveillance and web
# pictures: useful for fire and for negatives, less for distant lookout plumes.
#
# Licence: see the authors' repository (not verified from here; check it before any
# redistribution or commercial use). Cite de Venâncio et al., "An automatic fire detection
# system based on deep convolutional neural networks for low-power, resource-constrained
# devices", Neural Computing and Applications 2022.
#
# The official copy is a Google Drive folder (https://github.com/gaiasd/DFireDataset, section
# Download), which has no stable direct URL: either download D-Fire.zip from there by hand and
# pass it as DFIRE_ZIP, or have `gdown` installed (pip install gdown) to fetch the folder.
#
# Usage: datasets/fetch_dfire.sh [OUT_DIR]   (default data/dfire; result in OUT_DIR/yolo)
#   DFIRE_ZIP=~/Downloads/D-Fire.zip datasets/fetch_dfire.sh
source "$(dirname "$0")/_fetch_common.sh"

OUT=${1:-data/dfire}
DFIRE_DRIVE_FOLDER=${DFIRE_DRIVE_FOLDER:-https://drive.google.com/drive/folders/1DWgsQLVgkkLM8m-VcugHNpD5WYDbjYp5}
need unzip "$VIGIFEU"
mkdir -p "$OUT/download"

if [[ -n ${DFIRE_ZIP:-} ]]; then
    cp "$DFIRE_ZIP" "$OUT/download/"
elif command -v gdown >/dev/null 2>&1; then
    gdown --folder "$DFIRE_DRIVE_FOLDER" --output "$OUT/download"
else
    die "download D-Fire.zip from $DFIRE_DRIVE_FOLDER and rerun with DFIRE_ZIP=/path/to/D-Fire.zip (or install gdown)"
fi

find "$OUT/download" -name '*.zip' -print0 | while IFS= read -r -d '' archive; do
    unpack "$archive" "$OUT/raw"
done
# The archive holds <split>/images and <split>/labels (train, test); find that root.
root=$(dirname "$(find "$OUT/raw" -type d -path '*/train/images' -print -quit)")
root=$(dirname "$root")
[[ -d $root/train ]] || die "no train/images folder found under $OUT/raw"

"$VIGIFEU" dataset convert --format yolo --source "$root" --out "$OUT/yolo" \
    --classes 0=smoke,1=fire --prefix dfire_
check_dataset "$OUT/yolo"
