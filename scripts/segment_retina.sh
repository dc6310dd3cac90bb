#!/usr/bin/env bash
# The main job: segment the vessels of a real fundus photograph with the DRIVE bundle's shipped weights, on CPU.
#
#   1. install (scripts/setup_env.sh, as the tests do) and scikit-image, whose wheel holds the photograph:
#      skimage.data.retina(), a 1411x1411 colour fundus photograph (public domain, CC0);
#   2. write it to RETINA_OUT/input/retina.png (or segment the photographs of RETINA_IMAGES instead);
#   3. run the DRIVE bundle's inference with the shipped weights (models/model.pt, trained on real DRIVE images)
#      into RETINA_OUT/segmentation/: retina_mask.png (vessels 255), retina_prob.png, retina_overlay.png, at the
#      photograph's size. The photograph's field of view is 2.5 times DRIVE's (1300 against 540 pixels), so it is
#      segmented at DRIVE's scale (--image_zoom 0.4, RETINA_ZOOM; 1.0 for RETINA_IMAGES): 17 s on a loaded 2-core
#      CPU (128 s at full size, with vessels the network was not trained on: twice as wide).
#
# RETINA_OUT (default outputs/retina-<date-time>) must not exist: nothing is replaced or deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${RETINA_OUT:-outputs/retina-$(date +%Y%m%d-%H%M%S)}"
if [ -e "$OUT" ] || [ -L "$OUT" ]; then
  echo "[retina] error: RETINA_OUT=$OUT exists; nothing was changed. Choose a new RETINA_OUT." >&2
  exit 1
fi

source scripts/setup_env.sh
python -c "import skimage" 2>/dev/null || python -m pip install -q "scikit-image"

BUNDLE=bundles/drive_jattn_segmentation
IMAGES="${RETINA_IMAGES:-$OUT/input}"
mkdir -p -- "$OUT"
if [ -z "${RETINA_IMAGES:-}" ]; then
  python -c "import sys, skimage.data, PIL.Image; PIL.Image.fromarray(skimage.data.retina()).save(sys.argv[1])" \
    "$(mkdir -p -- "$IMAGES" && echo "$IMAGES/retina.png")"
fi

echo "[retina] segmenting $IMAGES with the shipped DRIVE weights on ${RETINA_DEVICE:-cpu}"
SECONDS=0
python -m monai.bundle run --config_file "$BUNDLE/configs/inference.json" --bundle_root "$BUNDLE" \
  --dataset_dir "$IMAGES" --output_dir "$OUT/segmentation" --device "${RETINA_DEVICE:-cpu}" --num_workers 0 \
  --image_zoom "${RETINA_ZOOM:-$([ -z "${RETINA_IMAGES:-}" ] && echo 0.4 || echo 1.0)}"
echo "[retina] done in ${SECONDS}s: $OUT/segmentation (the *_mask.png, *_prob.png and *_overlay.png of each photograph)"
