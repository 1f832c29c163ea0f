"""Fine-tuning recipe: SFT, PostPretrain, DPO and KTO; full fine-tuning or LoRA.

Reads top to bottom: setup (device, data, model, optimizer, resume) -> train
(steps, metrics, checkpoints, stop on SIGTERM) -> done. Everything comes from the
spec (docs/runtime-protocol.md); nothing from the environment except threads and
the ranks of a data-parallel run (distributed.World: rank 0 alone emits events and
writes checkpoints; one process is the plain path). Full fine-tuning on several ranks
shards the model with FSDP2 where this torch has it (fsdp.py: every rank then joins
each forward, evaluation and checkpoint gather, and only rank 0 writes); LoRA, and
everything on torch 1.13, keeps whole replicas with hand-summed gradients.

Loss normalisation over gradient accumulation: SFT/PostPretrain divide the summed
token NLL of the whole optimizer step by the step's trained-token count (so a
micro-batch with more response tokens weighs more, as if the step were one big
batch); DPO/KTO average over the step's examples.
"""

from __future__ import annotations

import base64
import copy
import math
import os
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from .. import _compat, fsdp
from ..data import DataOrder, eval_batches
from ..distributed import World
from ..io import safetensors
from ..io.checkpoint import checkpoint_name, checkpoint_root, read_state, remove_partial, write_checkpoint, write_json
from ..io.shards import Rows, Split, open_split, trained_targets
from ..losses import dpo_losses, kto_losses, kto_mismatched_rows, nll_perplexity, target_logps
from ..models import lora, nf4
from ..models.attention import choose_backend
from ..models.decoder import CausalLM, ModelConfig, count_parameters
from ..optim import lr_multiplier, param_groups, warmup_steps
from ..protocol import EventSink, StopFlag, UserError, log
from ..spec import FinetuneSpec


class _Batch:
    """One micro-batch on the device: ids, mask, segments, selected targets (and KTO labels)."""

    def __init__(self, rows: Rows, device: torch.device):
        self.ids = torch.from_numpy(rows.ids).to(device)
        self.mask = torch.from_numpy(rows.mask.astype(np.int64)).to(device)
        self.seg = torch.from_numpy(rows.seg).to(device)
        self.selected = torch.from_numpy(trained_targets(rows.mask, rows.seg)).to(device)
        self.kto = torch.from_numpy(rows.kto).to(device) if rows.kto is not None else None
        self.targets = int(self.selected.sum())


class _Losses:
    """Per-mode loss of a micro-batch, returning (summed loss, trained tokens, NLL sum, NLL tokens).

    The NLL parts give a perplexity: of every target for SFT/PostPretrain, of the
    chosen (DPO) or desirable (KTO) responses for preference modes.
    """

    def __init__(self, spec: FinetuneSpec, model: CausalLM, reference: Optional[CausalLM], pad_id: int):
        self.mode = spec.trainMode
        self.hyper = spec.hyper
        self.model = model
        self.reference = reference
        self.pad_id = pad_id

    def _reference_logps(self, ids, seg, selected) -> torch.Tensor:
        with torch.no_grad():
            if self.reference is None:  # LoRA: the base model is the model with adapters off
                with lora.adapters_disabled(self.model):
                    return target_logps(self.model, ids, seg, selected).per_row_sum()
            return target_logps(self.reference, ids, seg, selected).per_row_sum()

    def __call__(self, b: _Batch) -> Tuple[torch.Tensor, float, int]:
        if self.mode in ("SFT", "PostPretrain"):
            tl = target_logps(self.model, b.ids, b.seg, b.selected)
            nll = -tl.logps.sum()
            return nll, float(nll.detach()), b.targets
        reference = self._reference_logps(b.ids, b.seg, b.selected)
        tl = target_logps(self.model, b.ids, b.seg, b.selected)
        policy = tl.per_row_sum()
        if self.mode == "DPO":
            losses = dpo_losses(policy[0::2], policy[1::2], reference[0::2], reference[1::2], self.hyper.dpoBeta)
            keep = torch.zeros_like(policy, dtype=torch.bool)
            keep[0::2] = True
        else:
            kl = self._kto_reference_point(b)
            losses = kto_losses(policy, reference, b.kto, kl, self.hyper.ktoBeta)
            keep = b.kto.bool()
        chosen_nll = float(-(tl.logps.detach() * keep[tl.row]).sum())
        chosen_tokens = int(keep[tl.row].sum())
        return losses.sum(), chosen_nll, chosen_tokens

    def _kto_reference_point(self, b: _Batch) -> torch.Tensor:
        """KTO's z: max(0, mean KL of mismatched prompt/completion pairs), detached (TRL's default)."""
        ids, mask, seg = kto_mismatched_rows(b.ids, b.mask, b.seg, self.pad_id)
        selected = (mask[:, 1:] == 1) & (seg[:, 1:] > 0) & (seg[:, 1:] == seg[:, :-1])
        with torch.no_grad():
            policy = target_logps(self.model, ids, seg, selected).per_row_sum()
        reference = self._reference_logps(ids, seg, selected)
        return (policy - reference).mean().clamp(min=0)


def _encode_rng(state: dict) -> dict:
    out = {"cpu": base64.b64encode(state["cpu"]).decode()}
    if "cuda" in state:
        out["cuda"] = [base64.b64encode(s).decode() for s in state["cuda"]]
    return out


def _decode_rng(state: dict) -> dict:
    out = {"cpu": base64.b64decode(state["cpu"])}
    if "cuda" in state:
        out["cuda"] = [base64.b64decode(s) for s in state["cuda"]]
    return out


def _quantize_base(spec: FinetuneSpec, model: CausalLM, device: torch.device) -> None:
    """QLoRA (``hyper.loraBaseQuantization: NF4``): the decoder's projections become NF4, before LoRA wraps them.

    Run after the base weights are final (modelDir, or the full checkpoint an adapter
    sits on); quantized on the run's device, one layer at a time. Deterministic, so a
    resumed run rebuilds the same base.
    """
    if spec.hyper.loraBaseQuantization != "NF4":
        return
    before = nf4.model_bytes(model)
    names = nf4.quantize_decoder(model, device)
    log(f"NF4 base: {len(names)} decoder projections quantized, weights {before / 2**20:.2f} MiB -> "
        f"{nf4.model_bytes(model) / 2**20:.2f} MiB")


def run(spec: FinetuneSpec, events: EventSink, stop: StopFlag, world: Optional[World] = None) -> None:
    """Train as the spec says, emitting protocol events; returns after ``done`` or ``stopped``.

    ``world``: this process's rank in a data-parallel run (default: the only process).
    Ranks other than 0 should get a sink that writes nowhere.

    Raises:
        UserError: bad spec, data or model (the caller reports it, exit 2).
    """
    h = spec.hyper
    world = world or World()
    setup_started = time.perf_counter()

    # ---------------------------------------------------------------- setup: device
    try:
        device = _compat.resolve_device(spec.device)
    except ValueError as exc:
        raise UserError(str(exc), "device") from None
    try:
        precision = _compat.resolve_precision(spec.precision, device)
    except ValueError as exc:
        raise UserError(str(exc), "precision") from None
    device = world.device(device)
    world.start(device)
    threads = _compat.configure_torch_threads(precision, device)
    try:
        attention_backend = choose_backend(device)
    except ValueError as exc:
        raise UserError(str(exc)) from None  # the message names SAILFIN_ATTENTION
    log(f"torch {torch.__version__} on {device}, {precision}, {threads} torch thread(s), "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
        + (f", rank {world.rank} of {world.size}" if world.distributed else ""))
    root = checkpoint_root(spec.outputDir)
    os.makedirs(root, exist_ok=True)
    if world.main:  # other ranks never write there
        for path in remove_partial(root):
            log(f"removed partial checkpoint {path}")

    # ---------------------------------------------------------------- setup: data
    train: Split = open_split(spec.trainData, "data.train", spec.trainMode)
    validation: Optional[Split] = open_split(spec.validationData, "data.validation", spec.trainMode)
    config = ModelConfig.from_dir(spec.modelDir)
    for split in (train, validation):
        if split is not None and split.seq_len > config.max_position_embeddings:
            raise UserError(f"seqLen {split.seq_len} exceeds the model's max_position_embeddings "
                            f"{config.max_position_embeddings}", split.field)
    trained_per_epoch = train.scan(config.vocab_size)
    if validation is not None:
        validation.scan(config.vocab_size)
    if trained_per_epoch == 0:
        raise UserError("no token carries loss (every mask is 0)", "data.train")
    order = DataOrder(train, h.batchSize, h.gradientAccumulationSteps, h.seed)
    total_steps = order.steps_per_epoch * h.epoch
    digest = spec.digest(train.content_hash, validation.content_hash if validation else None)
    resume_state: Optional[dict] = None
    if spec.resumeFrom:
        resume_state = read_state(spec.resumeFrom)
        if resume_state is None:
            raise UserError("not a checkpoint of this runtime (no trainer_state.json)", "resumeFrom")
        if resume_state.get("specDigest") != digest:
            raise UserError("the checkpoint was written by a different spec (mode, hyper-parameters, data "
                            "or initCheckpoint changed); start a new run instead", "resumeFrom")

    # ---------------------------------------------------------------- setup: model
    torch.manual_seed(h.seed)
    with _compat.skip_init():
        model = CausalLM(config)
    model.load_hf_state_dict(safetensors.load_weights(spec.modelDir, "modelDir"), "modelDir")
    settings: Optional[lora.LoraSettings] = None
    base_checkpoint: Optional[str] = None  # full weights a LoRA adapter sits on, when not modelDir's
    if spec.initCheckpoint:
        init = spec.initCheckpoint
        if lora.is_adapter_folder(init):
            init_state = read_state(init) or {}
            base_checkpoint = init_state.get("baseCheckpoint")
            if base_checkpoint:
                model.load_hf_state_dict(safetensors.load_weights(base_checkpoint, "initCheckpoint"), "initCheckpoint")
            settings = lora.read_adapter_settings(init)
            settings = lora.LoraSettings(settings.r, settings.alpha, h.loraDropout, settings.targets, settings.use_rslora)
            if spec.lora:
                _quantize_base(spec, model, device)
            lora.load_adapter(model, init, settings)
            if spec.lora:
                log(f"continuing the adapter of {init} (r={settings.r}, alpha={settings.alpha}); "
                    "loraRank/loraAlpha/loraTargetModules of the spec are not used")
            else:
                lora.merge_lora(model)
                settings, base_checkpoint = None, None
        else:
            model.load_hf_state_dict(safetensors.load_weights(init, "initCheckpoint"), "initCheckpoint")
            base_checkpoint = init if spec.lora else None
    if spec.lora and settings is None:
        settings = lora.LoraSettings(h.loraRank, h.loraAlpha, h.loraDropout, list(h.loraTargetModules))
        _quantize_base(spec, model, device)
        lora.add_lora(model, settings)
    if not spec.lora:
        for p in model.parameters():
            p.requires_grad_(True)
    model.model.gradient_checkpointing = h.gradientCheckpointing
    model.model.attention_backend = attention_backend
    log(f"attention: {attention_backend} (SAILFIN_ATTENTION overrides); gradient checkpointing "
        f"{'on' if h.gradientCheckpointing else 'off'}; AdamW {'fused' if _compat.adamw_is_fused(device) else 'unfused'}")
    sharded = world.distributed and not spec.lora and _compat.has_fsdp2()
    if not sharded:  # fully_shard moves each rank's shards to the device: the whole model never goes there
        model.to(device)
    reference: Optional[CausalLM] = None
    if spec.preference and not spec.lora:  # full fine-tuning needs a frozen copy of the starting weights
        reference = copy.deepcopy(model).eval()
        for p in reference.parameters():
            p.requires_grad_(False)
    if spec.resumeFrom:  # before sharding: each rank reads the whole files, then keeps its shard
        if spec.lora:
            lora.load_adapter_weights(model, spec.resumeFrom)
        else:
            model.load_hf_state_dict(safetensors.load_weights(spec.resumeFrom, "resumeFrom"), "resumeFrom")
    counts = count_parameters(model)
    counts["parameters"] += nf4.quantized_parameters(model)  # NF4 base weights are buffers, not parameters
    if _compat.maybe_compile_layers(model.model.layers, device, total_steps):
        log("decoder layers compiled with torch.compile")
    if sharded:
        fsdp.shard(model, model.model.layers, world, device)
        if reference is not None:
            fsdp.shard(reference, reference.model.layers, world, device)
        log(f"FSDP2: every weight, gradient and optimizer moment sharded over {world.size} ranks")
    else:
        world.broadcast_parameters([p for p in model.parameters() if p.requires_grad])

    # ---------------------------------------------------------------- setup: optimizer
    optimizer = _compat.make_adamw(param_groups(model, h.weightDecay), h.learningRate, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_multiplier(h.schedulerName, warmup_steps(total_steps, h.warmupRatio), total_steps))

    # ---------------------------------------------------------------- setup: resume (weights were loaded above)
    step, trained_tokens = 0, 0
    losses: List[List[float]] = []
    last_checkpoint: Optional[str] = None
    if resume_state is not None:
        state = resume_state
        optimizer_state = _compat.torch_load(os.path.join(spec.resumeFrom, "optimizer.pt"))
        if sharded:
            fsdp.load_optimizer_state(model, optimizer, optimizer_state)
        else:
            optimizer.load_state_dict(optimizer_state)
        scheduler.load_state_dict(_compat.torch_load(os.path.join(spec.resumeFrom, "scheduler.pt")))
        _compat.set_rng_state(_decode_rng(state["rng"]), device)
        step, trained_tokens, losses = int(state["step"]), int(state["trainedTokens"]), state["losses"]
        last_checkpoint = os.path.abspath(spec.resumeFrom)
        log(f"resumed from {spec.resumeFrom} at step {step}")

    log(f"setup took {time.perf_counter() - setup_started:.1f} s: {total_steps} steps of {order.per_step} examples, "
        f"{counts['trainable']:,} of {counts['parameters']:,} parameters trainable")
    events.emit("started", totalSteps=total_steps, trainRows=train.rows, trainedTokensPerEpoch=trained_per_epoch,
                device=str(device), precision=precision, torch=torch.__version__, parameters=counts["parameters"],
                trainableParameters=counts["trainable"], resumedFromStep=step)
    compute = _Losses(spec, model, reference, train.pad_id)

    def evaluate() -> Tuple[Optional[float], Optional[float]]:
        """Validation loss and perplexity over the whole validation split (no dropout, no RNG use)."""
        if validation is None:
            return None, None
        model.eval()
        loss_sum, examples, nll_sum, nll_tokens = 0.0, 0, 0.0, 0
        pairs = validation.kind == "preference"
        with torch.no_grad():
            for idx in eval_batches(validation, h.batchSize):
                rows_idx = np.stack([2 * idx, 2 * idx + 1], axis=1).reshape(-1) if pairs else idx
                b = _Batch(validation.get(rows_idx), device)
                with _compat.autocast(device, precision):
                    loss, nll, tokens = compute(b)
                loss_sum += float(loss)
                examples += len(idx) if compute.mode in ("DPO", "KTO") else 0
                nll_sum += nll
                nll_tokens += tokens
        model.train()
        denominator = examples if compute.mode in ("DPO", "KTO") else nll_tokens
        eval_loss = loss_sum / denominator if denominator else None
        return eval_loss, nll_perplexity(nll_sum, nll_tokens)

    def save(train_loss: Optional[float]) -> str:
        """Evaluate and write a checkpoint: rank 0 alone, or every rank under FSDP (they gather, rank 0 writes)."""
        eval_loss, perplexity = evaluate()
        if eval_loss is not None:
            events.emit("eval", step=step, evalLoss=eval_loss, perplexity=perplexity)
        if sharded:
            model_state, optimizer_state = fsdp.full_model_state(model), fsdp.full_optimizer_state(model, optimizer)
            if not world.main:
                return os.path.abspath(os.path.join(root, checkpoint_name(step)))
        else:
            model_state, optimizer_state = model.state_dict(), optimizer.state_dict()

        def write(folder: str) -> None:
            if spec.lora:
                lora.save_adapter(model, folder, settings, base_model=spec.modelDir)
            else:
                weights = {k: v.detach().to("cpu", torch.float32) for k, v in model.hf_names(model_state).items()}
                safetensors.save_file(weights, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
                write_json(folder, "config.json", {**config.raw, "torch_dtype": "float32"})
            torch.save(optimizer_state, os.path.join(folder, "optimizer.pt"))
            torch.save(scheduler.state_dict(), os.path.join(folder, "scheduler.pt"))
            write_json(folder, "trainer_state.json", {
                "step": step, "totalSteps": total_steps, "epoch": step / order.steps_per_epoch,
                "stepsPerEpoch": order.steps_per_epoch,
                "dataOrder": {"scheme": "numpy PCG64([seed, epoch]).permutation(examples)", "seed": h.seed,
                              "examples": order.examples, "examplesPerStep": order.per_step},
                "rng": _encode_rng(_compat.rng_state(device)), "losses": losses, "trainedTokens": trained_tokens,
                "trainLoss": train_loss, "evalLoss": eval_loss, "perplexity": perplexity, "specDigest": digest,
                "runId": spec.runId, "trainMode": spec.trainMode, "parameterScale": spec.parameterScale,
                "modelDir": spec.modelDir, "initCheckpoint": spec.initCheckpoint, "baseCheckpoint": base_checkpoint,
                "precision": precision, "torch": torch.__version__, "time": time.time(),
            })

        path = write_checkpoint(root, step, write, h.checkpointCount)
        events.emit("checkpoint", step=step, path=path, trainLoss=train_loss, evalLoss=eval_loss)
        return path

    # ---------------------------------------------------------------- train
    train_started = time.perf_counter()
    model.train()
    interval: Dict[str, float] = {"loss": 0.0, "steps": 0, "tokens": 0, "start": time.perf_counter()}
    since_checkpoint: List[float] = []
    saved_step = step if spec.resumeFrom else -1
    percent = -1
    stopping = False
    if world.distributed and h.gradientAccumulationSteps % world.size:
        log(f"gradientAccumulationSteps {h.gradientAccumulationSteps} is not a multiple of the {world.size} ranks: "
            "some ranks idle in some micro-batch rounds")
    while step < total_steps:
        step_micro = order.micro_batches(step)
        micro = [_Batch(order.rows(ex), device) for ex in world.share(step_micro)]
        step_targets, examples_in_step, stopping = world.step_totals(
            sum(b.targets for b in micro), sum(b.ids.shape[0] for b in micro) // (2 if order.pairs else 1),
            stop.requested)
        if stopping:  # every rank agrees, so all stop after the same step
            break
        denominator = step_targets if compute.mode in ("SFT", "PostPretrain") else examples_in_step
        lr = optimizer.param_groups[0]["lr"]
        step_loss = 0.0
        weighted = [(b, 1.0) for b in micro]
        if sharded:  # every rank runs as many forward/backward passes as the busiest: FSDP's collectives pair up
            rounds = -(-len(step_micro) // world.size)
            weighted += [(_Batch(order.rows(step_micro[0]), device), 0.0)] * (rounds - len(micro))
        for b, weight in weighted:
            if b.targets == 0 and compute.mode in ("SFT", "PostPretrain") and not sharded:
                continue
            with _compat.autocast(device, precision):
                loss, _, _ = compute(b)
            (loss * weight / max(1, denominator)).backward()
            step_loss += weight * float(loss.detach()) / max(1, denominator)
        step_loss = world.sum_scalar(step_loss)
        if not math.isfinite(step_loss):
            raise UserError(f"the loss became {step_loss} at step {step + 1}: training diverged; "
                            "lower learningRate or raise warmupRatio", "hyper.learningRate")
        params = [p for g in optimizer.param_groups for p in g["params"]]
        max_norm = h.maxGradNorm if h.maxGradNorm > 0 else float("inf")
        if sharded:  # FSDP already summed the gradients (reduce-scatter in backward)
            grad_norm = fsdp.clip_grad_norm(params, max_norm)
        else:
            world.sum_gradients(params)
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        trained_tokens += step_targets
        losses.append([step, step_loss])
        since_checkpoint.append(step_loss)
        interval["loss"] += step_loss
        interval["steps"] += 1
        interval["tokens"] += step_targets

        if step % h.loggingSteps == 0 or step == total_steps:
            elapsed = max(time.perf_counter() - interval["start"], 1e-9)
            events.emit("metrics", step=step, epoch=round(step / order.steps_per_epoch, 6),
                        loss=interval["loss"] / interval["steps"], lr=lr, gradNorm=grad_norm,
                        tokensPerSecond=interval["tokens"] / elapsed, trainedTokens=trained_tokens)
            interval = {"loss": 0.0, "steps": 0, "tokens": 0, "start": time.perf_counter()}
        if step * 100 // total_steps != percent or step == total_steps:
            percent = step * 100 // total_steps
            events.emit("progress", step=step, totalSteps=total_steps)
        if (world.main or sharded) and (step % h.saveStep == 0 or step == total_steps):
            started = time.perf_counter()
            last_checkpoint = save(sum(since_checkpoint) / len(since_checkpoint))
            saved_step, since_checkpoint = step, []
            interval["start"] += time.perf_counter() - started  # checkpoint time is not training time

    # ---------------------------------------------------------------- cleanup
    log(f"trained to step {step} in {time.perf_counter() - train_started:.1f} s")
    if stopping:
        if (world.main or sharded) and step > 0 and saved_step != step:
            last_checkpoint = save(sum(since_checkpoint) / len(since_checkpoint) if since_checkpoint else None)
        events.emit("stopped", step=step, checkpoint=last_checkpoint)
        return
    if (world.main or sharded) and saved_step != step:  # e.g. resumed at the last step
        last_checkpoint = save(sum(since_checkpoint) / len(since_checkpoint) if since_checkpoint else None)
    events.emit("done", step=step, outputs={"lastCheckpoint": last_checkpoint})
