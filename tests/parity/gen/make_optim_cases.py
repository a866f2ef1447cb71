"""References for finch's optimizer, gradient clipping and learning-rate schedules.

1. AdamW as HF Trainer builds it: the class and options from
   Trainer.get_optimizer_cls_and_kwargs (transformers 5 on torch >= 2.8:
   torch.optim.AdamW(fused=True)), the two parameter groups of
   Trainer.create_optimizer (weight decay on get_decay_parameter_names, 0.0 on
   the rest), and the learning rate of get_scheduler("cosine", warm-up 3) per
   step. Ten steps on small fp32 tensors named like finch's parameters, with
   random gradients (some steps with large ones). Saved: initial values, each
   step's gradients and learning rate, the parameters after every step and the
   final exp_avg / exp_avg_sq.
2. get_decay_parameter_names on a module tree holding many parameter names
   (Llama/Qwen3 norms, biases, LoRA, odd spellings): the names that decay.
3. torch.nn.utils.clip_grad_norm_ (the call HF's Trainer makes through
   accelerate) on gradient sets: below the limit, above it, several
   tensors of mixed dtype (fp32 + bf16), an inf and a nan gradient. Saved:
   gradients before and after, and the returned total norm.
4. The multipliers of get_constant_schedule_with_warmup (finch's "constant";
   HF's plain "constant" ignores warm-up), get_linear_schedule_with_warmup and
   get_cosine_schedule_with_warmup for steps 0..total+4, for several
   (warm-up, total) pairs.

Why the references are right: they are transformers' and torch's own outputs.
Files: adamw.safetensors, clip.safetensors, cases.json.

Usage: make_optim_cases.py OUT_DIR
"""
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file
from torch import nn
from transformers import Trainer, TrainingArguments
from transformers.optimization import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
    get_scheduler,
)


def module_tree(shapes):
    """An nn.Module whose named_parameters() are the given dotted names."""
    root = nn.Module()
    for name, shape in shapes.items():
        *path, leaf = name.split(".")
        module = root
        for part in path:
            if not hasattr(module, part):
                module.add_module(part, nn.Module())
            module = getattr(module, part)
        module.register_parameter(leaf, nn.Parameter(torch.zeros(shape)))
    return root


ADAMW_SHAPES = {
    "model.embed_tokens.weight": (6, 4),
    "model.layers.0.input_layernorm.weight": (4,),
    "model.layers.0.self_attn.q_proj.weight": (4, 4),
    "model.layers.0.self_attn.q_proj.bias": (4,),
    "model.layers.0.self_attn.q_norm.weight": (2,),
    "model.layers.0.mlp.down_proj.lora_A.default.weight": (2, 8),
    "model.layers.0.mlp.down_proj.lora_B.default.weight": (4, 2),
    "model.norm.weight": (4,),
    "lm_head.weight": (6, 4),
}

DECAY_NAMES = list(ADAMW_SHAPES) + [
    "model.layers.1.post_attention_layernorm.weight",
    "model.layers.1.self_attn.k_norm.weight",
    "model.layers.1.self_attn.o_proj.bias",
    "model.layers.1.mlp.gate_proj.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
    "base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias",
    "base_model.model.model.norm.weight",
    "model.LayerNorm.weight",
    "model.final_RMSNorm.weight",
    "model.layer_norm.weight",
    "model.normalizer.weight",
    "model.enorm.weight",
    "model.norms.weight",
    "model.norm_x.weight",
    "model.x_norm_y.weight",
    "model.biased.weight",
    "norm.weight",
]


def adamw_case(out_dir, cases):
    lr, steps, warmup = 1e-2, 10, 3
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, learning_rate=lr, weight_decay=0.1, adam_beta1=0.85,
                                 adam_beta2=0.99, adam_epsilon=1e-6, report_to="none")
    model = module_tree(ADAMW_SHAPES)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    # Trainer.create_optimizer's groups, with Trainer's own decay rule and optimizer choice.
    decay = Trainer.get_decay_parameter_names(None, model)
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if n in decay], "weight_decay": args.weight_decay},
              {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]
    optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args)
    assert optimizer_cls is torch.optim.AdamW and kwargs.get("fused"), (optimizer_cls, kwargs)
    optimizer = optimizer_cls(groups, **kwargs)
    scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=warmup, num_training_steps=steps)

    tensors = {f"init.{n}": p.detach().clone() for n, p in named}
    lrs = []
    for step in range(steps):
        scale = 100.0 if step in (4, 7) else 1.0
        for n, p in named:
            p.grad = torch.randn(p.shape, generator=generator) * scale
            tensors[f"grad.{step}.{n}"] = p.grad.clone()
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        for n, p in named:
            tensors[f"param.{step}.{n}"] = p.detach().clone()
    for n, p in named:
        state = optimizer.state[p]
        assert state["step"].dtype == torch.float32 and state["step"].item() == steps
        tensors[f"exp_avg.{n}"] = state["exp_avg"].clone()
        tensors[f"exp_avg_sq.{n}"] = state["exp_avg_sq"].clone()
    save_file(tensors, os.path.join(out_dir, "adamw.safetensors"))
    cases["adamw"] = {"names": [n for n, _ in named], "lr": lr, "beta1": args.adam_beta1, "beta2": args.adam_beta2,
                      "eps": args.adam_epsilon, "weight_decay": args.weight_decay, "steps": steps,
                      "warmup_steps": warmup, "lrs": lrs, "optimizer": f"{optimizer_cls.__name__} {kwargs}"}
    cases["decay"] = sorted(Trainer.get_decay_parameter_names(None, module_tree({n: (1,) for n in DECAY_NAMES})))
    cases["decay_checked"] = DECAY_NAMES


def clip_case(out_dir, cases):
    generator = torch.Generator().manual_seed(1)

    def randn(*shape, scale=1.0, dtype=torch.float32):
        return (torch.randn(shape, generator=generator) * scale).to(dtype)

    sets = {
        "below": ([randn(3, 4, scale=0.01), randn(5, scale=0.01)], 1.0),
        "above": ([randn(3, 4), randn(5), randn(2, 2, scale=10.0)], 1.0),
        "above_half": ([randn(7, 3), randn(8)], 0.5),
        "mixed_dtype": ([randn(4, 4), randn(6, dtype=torch.bfloat16), randn(3, scale=5.0)], 1.0),
        "bf16": ([randn(4, 4, dtype=torch.bfloat16), randn(9, scale=3.0, dtype=torch.bfloat16)], 1.0),
        "inf": ([randn(3, 3), torch.tensor([1.0, float("inf"), 2.0])], 1.0),
        "nan": ([randn(3, 3), torch.tensor([1.0, float("nan"), 2.0])], 1.0),
    }
    tensors, meta = {}, {}
    for name, (grads, max_norm) in sets.items():
        params = [nn.Parameter(torch.zeros(g.shape, dtype=g.dtype)) for g in grads]
        for i, (p, g) in enumerate(zip(params, grads)):
            p.grad = g.clone()
            tensors[f"{name}.before.{i}"] = g
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        for i, p in enumerate(params):
            tensors[f"{name}.after.{i}"] = p.grad
        tensors[f"{name}.total"] = total
        meta[name] = {"count": len(grads), "max_norm": max_norm}
    save_file(tensors, os.path.join(out_dir, "clip.safetensors"))
    cases["clip"] = meta


def schedule_cases(cases):
    makers = {
        "constant": lambda opt, w, t: get_constant_schedule_with_warmup(opt, w),
        "linear": get_linear_schedule_with_warmup,
        "cosine": get_cosine_schedule_with_warmup,
    }
    out = []
    for kind, make in makers.items():
        for warmup, total in [(5, 20), (0, 20), (0, 1), (3, 3), (10, 7), (1, 1000)]:
            optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
            scheduler = make(optimizer, warmup, total)
            multipliers = [scheduler.lr_lambdas[0](step) for step in range(total + 5)]
            out.append({"type": kind, "warmup_steps": warmup, "total_steps": total,
                        "multipliers": [float(m) for m in multipliers]})
    cases["schedules"] = out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    cases = {}
    adamw_case(out_dir, cases)
    clip_case(out_dir, cases)
    schedule_cases(cases)
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
