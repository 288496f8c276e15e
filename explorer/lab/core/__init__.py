"""What every topic shares: the experiment protocol, bounded histories, contour lines, argument guards,
numerics and the training helpers (device, data, minibatches, optimizer)."""
