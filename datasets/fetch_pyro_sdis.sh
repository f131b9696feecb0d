#!/usr/bin/env bash
# Pyronear pyro-sdis (Hugging Face dataset pyronear/pyro-sdis): ~33,600 frames of Pyronear's
# lookout cameras in France (SDIS fire services) and Spain, smoke boxes only, as Parquet shards
# (columns image{bytes}, annotations = YOLO lines, image_name, camera and partner metadata),
# train and val splits. The closest public data to Alpes-Maritimes lookout cameras.
#
# Licence: Apache-2.0 as declared on the dataset card. Credit Pyronear and the partner SDIS.
#
# Downloads the Parquet files at a pinned revision with the Hugging Face CLI
# (pip install "huggingface_hub[cli]"); every box is smoke, whatever id the shard gives it.
#
# Usage: datasets/fetch_pyro_sdis.sh [OUT_DIR]   (default data/pyro_sdis; result in OUT_DIR/yolo)
#   PYRO_SDIS_REVISION=<commit> to pin another revision (default: the one this script was written for)
source "$(dirname "$0")/_fetch_common.sh"

OUT=${1:-data/pyro_sdis}
REVISION=${PYRO_SDIS_REVISION:-a1e553ec4d806f71fc6db744cc22bc3469487382}
need huggingface-cli "$VIGIFEU"
huggingface-cli download pyronear/pyro-sdis --repo-type dataset --revision "$REVISION" \
    --include 'data/*.parquet' --local-dir "$OUT/download"

"$VIGIFEU" dataset convert --format parquet --source "$OUT/download/data" --out "$OUT/yolo" \
    --classes '*=smoke' --prefix pyro_
check_dataset "$OUT/yolo"
