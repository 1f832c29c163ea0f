"""Sailfin's training runtime: pure-PyTorch fine-tuning of Llama and Qwen2 models.

Run as ``python3 -m sailfin_runtime <finetune|export> --spec spec.json``; the
contract with the TypeScript worker is docs/runtime-protocol.md.
"""

__version__ = "0.1.0"
