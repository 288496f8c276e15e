"""FlashAttention: measured sweeps of the attention methods, the IO model, and the online softmax step by step."""
