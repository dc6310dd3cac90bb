#!/usr/bin/env bash
# The demo: from a fresh clone to a trained DenseUNet-JA, a metrics table and pictures, on CPU.
#
#   1. install (scripts/setup_env.sh, as the tests do);
#   2. write a synthetic DRIVE set in the official layout (20 training, 20 test images, full size);
#   3. train the DRIVE bundle for DEMO_MINUTES minutes (validating every DEMO_VAL_INTERVAL iterations);
#   4. evaluate the best model on the 20 test images (inside the field of view);
#   5. run inference on the test images (probability, mask and overlay PNGs);
#   6. print the Dice of constant predictions (all background, all vessel) for comparison.
#
# Everything is left in outputs/demo/ (DEMO_OUT), a folder the demo makes and marks with a file
# .monai_jattn_demo: a rerun replaces only a folder that holds this marker (or an empty one), and
# stops without deleting anything when DEMO_OUT names any other existing folder. Settings, all optional:
#   DEMO_MINUTES=4          training budget in minutes
#   DEMO_VAL_INTERVAL=50    iterations between validations (the best model is chosen at these)
#   DEMO_NETWORK="..."      bundle overrides for the network; default: a narrower DenseUNet-JA that learns
#                           in minutes on a CPU (set DEMO_NETWORK="" for the paper-sized network)
#   DEMO_DEVICE=cpu         set to cuda to train on a GPU
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${DEMO_OUT:-outputs/demo}"
MARKER=".monai_jattn_demo"
if [ -e "$OUT" ] || [ -L "$OUT" ]; then
  if [ -d "$OUT" ] && [ ! -L "$OUT" ] && [ -f "$OUT/$MARKER" ]; then
    rm -rf -- "$OUT"  # an earlier demo's folder
  elif [ ! -d "$OUT" ] || [ -L "$OUT" ] || [ -n "$(ls -A -- "$OUT")" ]; then
    echo "[demo] error: DEMO_OUT=$OUT exists and was not made by the demo (no $MARKER inside);" \
         "nothing was deleted. Choose another DEMO_OUT, or move that folder away yourself." >&2
    exit 1
  fi
fi
mkdir -p -- "$OUT"
touch -- "$OUT/$MARKER"

source scripts/setup_env.sh

MINUTES="${DEMO_MINUTES:-4}"
VAL_INTERVAL="${DEMO_VAL_INTERVAL:-50}"
DEVICE="${DEMO_DEVICE:-cpu}"
NETWORK="${DEMO_NETWORK---network_def#init_features 16 --network_def#growth_rate 8 --network_def#block_layers [2,2,3,4,4] --network_def#decoder_features [16,32,48,64] --network_def#pwa_hidden_channels 16}"
BUNDLE=bundles/drive_jattn_segmentation
DATA="$OUT/data/DRIVE"
read -r -a NETWORK_ARGS <<< "$NETWORK"
COMMON=(--bundle_root "$BUNDLE" --dataset_dir "$DATA" --ckpt_dir "$OUT/models" --device "$DEVICE" --num_workers 0
        "${NETWORK_ARGS[@]}")

echo "[demo] 1/5 writing a synthetic DRIVE set to $DATA"
python -m monai_jattn.datasets sample drive "$DATA" --train 20 --test 20 --seed 0

echo "[demo] 2/5 training for $MINUTES minutes on $DEVICE (validation every $VAL_INTERVAL iterations)"
python -m monai.bundle run --config_file "$BUNDLE/configs/train.json" "${COMMON[@]}" --output_dir "$OUT" --load_pretrain False \
  --max_iterations 1000000 --val_interval "$VAL_INTERVAL" --time_limit "$((MINUTES * 60))"

echo "[demo] 3/5 evaluating the best model on the test images"
python -m monai.bundle run --config_file "['$BUNDLE/configs/train.json','$BUNDLE/configs/evaluate.json']" \
  "${COMMON[@]}" --output_dir "$OUT" --save_predictions False

echo "[demo] 4/5 inference on the test images"
python -m monai.bundle run --config_file "$BUNDLE/configs/inference.json" "${COMMON[@]}" \
  --dataset_dir "$DATA/test" --output_dir "$OUT/inference"

echo "[demo] 5/5 constant predictions, for comparison"
python - "$DATA" "$OUT" <<'EOF'
import json
import sys

import numpy as np
from PIL import Image

from monai_jattn.datasets.drive import drive_datalist
from monai_jattn.atomic_write import write_json_atomic

data, out = sys.argv[1:]
test = drive_datalist(data, "test", require_labels=True)
vessel = fov = 0
for entry in test:
    inside = np.asarray(Image.open(entry["mask"]).convert("L")) > 0
    vessel += np.count_nonzero((np.asarray(Image.open(entry["label"]).convert("L")) > 0) & inside)
    fov += np.count_nonzero(inside)
baselines = {"all background": 0.0, "all vessel": 2 * vessel / (vessel + fov)}  # Dice = 2TP / (2TP + FP + FN)
write_json_atomic(f"{out}/constant_baselines.json", {name: {"dice": dice} for name, dice in baselines.items()})
model = json.load(open(f"{out}/metrics_summary.json"))["dice_inside_fov"]
print(f"inside-FOV Dice on the {len(test)} test images: trained model {model:.4f}; "
      + "; ".join(f"constant {name} {dice:.4f}" for name, dice in baselines.items()))
EOF

echo
cat "$OUT/metrics.md"
echo
echo "[demo] results in $OUT/:"
echo "  metrics.md, metrics_summary.json, metrics_per_image.csv   test metrics (paper's columns)"
echo "  constant_baselines.json                                  Dice of constant predictions"
echo "  training_curve.png, training_curve.json                  loss and validation Dice"
echo "  inference/images/<id>_overlay.png, _mask.png, _prob.png  predictions on the test images"
echo "  models/model.pt (best validation Dice), models/latest.pt  checkpoints; TensorBoard logs: $OUT"
