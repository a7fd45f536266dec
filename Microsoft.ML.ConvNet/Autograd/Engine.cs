using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Autograd;

/// <summary>
/// Reverse-mode differentiation: orders the graph below the root topologically (the tape), then walks it
/// backwards. Intermediate gradients are disposed as soon as they have been propagated; leaf gradients
/// accumulate (+=) into buffers owned by the leaf. The graph is released as it is walked, and on request the
/// intermediate tensors too: each one is freed as soon as the walk has passed its producer, when every operation that
/// read it has already had its backward pass (what PyTorch does with the tensors only its graph holds).
/// </summary>
internal static class Engine
{
    public static void Backward(Tensor root, Tensor? gradient, bool releaseIntermediates = false)
    {
        if (!root.RequiresGrad)
        {
            throw new InvalidOperationException($"Backward: tensor {root.Shape} does not require a gradient (no input of its graph has RequiresGrad set, or it was computed under NoGradScope).");
        }
        Tensor seed;
        if (gradient == null)
        {
            if (root.Size != 1)
            {
                throw new InvalidOperationException($"Backward without a gradient needs a one-element tensor; got {root.Shape}. Pass a gradient of the same shape.");
            }
            seed = Tensor.Full(root.Shape, 1f, root.Device);
        }
        else
        {
            if (gradient.Shape != root.Shape)
            {
                throw new ShapeMismatchException("Backward", root.Shape, gradient.Shape, "the gradient must have the tensor's shape");
            }
            seed = gradient.Clone();
        }

        if (root.IsLeaf)
        {
            AccumulateLeaf(root, seed);
            return;
        }

        var order = TopologicalOrder(root);
        var pending = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [root] = seed };
        for (int idx = order.Count - 1; idx >= 0; idx--)
        {
            var t = order[idx];
            var fn = t.GradFn!;
            if (!pending.Remove(t, out var g))
            {
                t.GradFn = null;
                Release(t);
                continue;
            }
            var grads = fn.Backward(g);
            bool handedOn = false;
            for (int i = 0; i < fn.Inputs.Length; i++)
            {
                var gi = grads.Length > i ? grads[i] : null;
                var input = fn.Inputs[i];
                if (gi == null || !input.RequiresGrad)
                {
                    continue;
                }
                if (gi.Shape != input.Shape)
                {
                    throw new InvalidOperationException($"{fn.Name} backward returned a gradient of shape {gi.Shape} for an input of shape {input.Shape}.");
                }
                // A gradient object may be handed on only once; later uses get a copy.
                bool reused = ReferenceEquals(gi, g) ? handedOn : Array.IndexOf(grads, gi) < i;
                if (reused)
                {
                    gi = gi.Clone();
                }
                else if (ReferenceEquals(gi, g))
                {
                    handedOn = true;
                }
                if (input.IsLeaf)
                {
                    AccumulateLeaf(input, gi);
                }
                else if (pending.TryGetValue(input, out var acc))
                {
                    acc.Backend.Axpy(1f, gi, acc);
                    gi.Dispose();
                }
                else
                {
                    pending[input] = gi;
                }
            }
            if (!handedOn)
            {
                g.Dispose();
            }
            t.GradFn = null;
            Release(t);
        }
        foreach (var leftover in pending.Values)
        {
            leftover.Dispose();
        }

        // Everything that reads t comes after it in the forward order, so its backward pass has run; only the current
        // scope's own tensors are freed (one it does not own, the caller may still hold), and never the root.
        void Release(Tensor t)
        {
            if (releaseIntermediates && !ReferenceEquals(t, root))
            {
                TensorScope.ReleaseEarly(t);
            }
        }
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (leaf.Grad == null)
        {
            // The fresh gradient becomes the leaf's own buffer: take it out of any scope.
            leaf.Grad = g.Unscope();
        }
        else
        {
            leaf.Backend.Axpy(1f, g, leaf.Grad);
            g.Dispose();
        }
    }

    /// <summary>Non-leaf tensors reachable from root, each after all tensors it depends on.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next];
                if (child.GradFn != null && visited.Add(child))
                {
                    stack.Push((child, 0));
                }
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }
}
