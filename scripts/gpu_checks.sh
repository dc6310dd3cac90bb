#!/usr/bin/env bash
# The checks that need a GPU, as one prepared run: the CUDA tests, the shipped weights evaluated on the GPU,
# the DRIVE bundle's end-to-end training speed, the fast recipe trained for a fixed time budget and scored on the
# test images, the multi-GPU configs on one GPU (nccl), a 3D MSD training, and torch.compile + CUDA graph.
# Every step has its own time limit and a failing step does not stop the next; all output goes to OUT_DIR/log.txt.
#
# Usage: scripts/gpu_checks.sh DRIVE_DIR ISIC_DIR OUT_DIR
#   TRAIN_SECONDS (default 150): wall-clock budget of the fast-recipe training; its max_iterations is chosen from
#   the measured end-to-end rate so that the cosine schedule ends inside the budget (at most the recipe's 10,000).
#   DEVICE (default cuda): cpu runs the same steps on tiny settings, to check the script itself.
set -u
DRIVE=$(realpath "$1")
ISIC=$(realpath "$2")
OUT=$(realpath -m "$3")
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
TRAIN_SECONDS=${TRAIN_SECONDS:-150}
REPO=$(pwd)
mkdir -p "$OUT/work"
LOG="$OUT/log.txt"
if [ "$DEVICE" = cuda ]; then
    ITERS=300 WARMUP=50 WORKERS=4 QUICK=1.0
else
    ITERS=4 WARMUP=2 WORKERS=0 QUICK=0.05
fi

# step NAME SECONDS COMMAND...: run COMMAND under a time limit, log its output and its exit status and duration
step() {
    local name=$1 limit=$2 start rc
    shift 2
    start=$(date +%s)
    echo "=== $name (limit ${limit}s): $*" >>"$LOG"
    timeout --kill-after=10 "$limit" "$@" >>"$LOG" 2>&1
    rc=$?
    echo "=== $name: rc=$rc in $(($(date +%s) - start))s" | tee -a "$LOG"
}

step environment 30 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1; \
    nproc; $PY -c 'import torch, monai, ignite; print(torch.__version__, torch.cuda.is_available(), \
    monai.__version__, ignite.__version__)'"
step cuda_tests 60 "$PY" -m pytest -q -p no:cacheprovider tests/test_speed.py

cd "$REPO/bundles/drive_jattn_segmentation" || exit 1
step drive_shipped_weights 90 "$PY" -m monai.bundle run \
    --config_file "['configs/train.json','configs/evaluate.json']" --dataset_dir "$DRIVE" --ckpt_dir models \
    --output_dir "$OUT/work/drive_eval" --device "$DEVICE" --save_predictions False
cd "$REPO/bundles/isic2017_jattn_segmentation" || exit 1
# ISIC2017_subset holds training images only: the 40 held-out ones, as the model card scores them
step isic_shipped_weights 90 "$PY" -m monai.bundle run \
    --config_file "['configs/train.json','configs/train_fast.json','configs/evaluate.json']" --dataset_dir "$ISIC" \
    --ckpt_dir models --output_dir "$OUT/work/isic_eval" --device "$DEVICE" --save_predictions False \
    --test_datalist '$@split[1]' --test_datalist_check '$@split[1]' 
cd "$REPO" || exit 1

step end_to_end 120 "$PY" scripts/benchmark_end_to_end.py --dataset_dir "$DRIVE" --device "$DEVICE" \
    --models DenseUNet-JA-9,BasicUNet --iterations "$ITERS" --warmup "$WARMUP" --num_workers "$WORKERS" \
    --amp --channels_last --output_dir "$OUT/work/end_to_end"
cp "$OUT/work/end_to_end/end_to_end.md" "$OUT/end_to_end.md" 2>/dev/null

# the fast recipe: as many whole 1,000-iteration validation intervals as the measured rate fits in TRAIN_SECONDS
FAST_ITERS=$("$PY" - "$OUT/work/end_to_end/end_to_end.json" "$TRAIN_SECONDS" "$QUICK" <<'EOF'
import json, sys
try:  # the measured rate of the bundle's loop; 10 it/s when the measurement failed
    rate = next(r["it_per_s"] for r in json.load(open(sys.argv[1]))["rows"] if r["model"] == "DenseUNet-JA-9")
except (OSError, StopIteration, KeyError, ValueError):
    rate = 10.0
iters = int(float(rate) * float(sys.argv[2]) // 1000 * 1000)
print(min(10000, max(1000, iters)) if float(sys.argv[3]) == 1.0 else 20)
EOF
)
VAL=$([ "$DEVICE" = cuda ] && echo 1000 || echo 10)
echo "fast recipe: $FAST_ITERS iterations" | tee -a "$LOG"
step fast_recipe $((TRAIN_SECONDS + 150)) "$PY" -m monai_jattn.experiments ablation --dataset drive \
    --dataset_dir "$DRIVE" --output_dir "$OUT/work/fast" --models ja9 --recipe fast --max_iterations "$FAST_ITERS" \
    --val_interval "$VAL" --seeds 0 --device "$DEVICE" --data_label "real DRIVE, $DEVICE" \
    --override num_workers="$WORKERS"
cp "$OUT/work/fast/results.md" "$OUT/fast_results.md" 2>/dev/null
cp "$OUT/work/fast/segmentation_grid.png" "$OUT/fast_grid.png" 2>/dev/null
cp "$OUT/work/fast/runs/ja9_seed0/models/model.pt" "$OUT/fast_model.pt" 2>/dev/null
cat "$OUT/work/fast/runs/ja9_seed0/result.json" >>"$LOG"
cp "$OUT/work/fast/runs/ja9_seed0/train/training_curve.json" "$OUT/fast_curve.json" 2>/dev/null

cd "$REPO/bundles/drive_jattn_segmentation" || exit 1
NPROC=$([ "$DEVICE" = cuda ] && echo 1 || echo 2)
step multi_gpu_train 90 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" \
    -m monai.bundle run \
    --config_file "['configs/train.json','configs/multi_gpu_train.json']" --dataset_dir "$DRIVE" \
    --ckpt_dir "$OUT/work/ddp/models" --output_dir "$OUT/work/ddp/eval" --max_iterations 20 --val_interval 10 \
    --load_pretrain False --num_workers "$WORKERS"
step multi_gpu_evaluate 60 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" \
    -m monai.bundle run \
    --config_file "['configs/train.json','configs/evaluate.json','configs/multi_gpu_evaluate.json']" \
    --dataset_dir "$DRIVE" --ckpt_dir "$OUT/work/ddp/models" --output_dir "$OUT/work/ddp/eval" \
    --save_predictions False
cd "$REPO" || exit 1

step msd_sample 30 "$PY" -m monai_jattn.datasets sample msd "$OUT/work/msd_data" --train 4 --test 1 --size 48 48 32
cd "$REPO/bundles/msd_jattn_segmentation" || exit 1
step msd_train 90 "$PY" -m monai.bundle run --config_file configs/train.json --dataset_dir "$OUT/work/msd_data" \
    --ckpt_dir "$OUT/work/msd/models" --output_dir "$OUT/work/msd/eval" --max_iterations 20 --val_interval 10 \
    --patch_size "[32, 32, 32]" --num_workers 0
cd "$REPO" || exit 1

step compile_cuda_graph 120 "$PY" scripts/benchmark_end_to_end.py --dataset_dir "$DRIVE" --device "$DEVICE" \
    --models DenseUNet-JA-9 --iterations "$ITERS" --warmup "$WARMUP" --num_workers "$WORKERS" --compile --cuda_graph \
    --output_dir "$OUT/work/compiled"
cp "$OUT/work/compiled/end_to_end.md" "$OUT/compiled.md" 2>/dev/null
grep -h "rc=" "$LOG"
