"""Fine-tuning: a pretrained source network, the strategies that adapt it, their sweep, freezing and CKA."""
