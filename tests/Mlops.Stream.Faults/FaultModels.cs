using Google.Protobuf;
using Mlops.Stream.Demo.Onnx.Proto;
using static Mlops.Stream.Demo.Internal.MlpOnnxExporter;

namespace Mlops.Stream.Faults;

/// <summary>
/// Variants of the demo network (input <c>features</c> FP32 [n,30], outputs <c>probabilities</c>
/// [n,2] and <c>label</c> [n]) for the model faults: one whose cost is dialled by extra real work,
/// and one that fails for some inputs. Both keep the demo's contract, so the node serves them in its
/// place and the delivery checker runs them directly like any other version.
/// </summary>
public static class FaultModels
{
    /// <summary>
    /// Inputs whose first feature, truncated to an integer, falls outside [-1, 0] are refused by
    /// <see cref="FailingForLargeFirstFeature"/>: any value at or above this one does it.
    /// </summary>
    public const float PoisonFirstFeature = 1000f;

    /// <summary>
    /// The demo network plus a chain of <paramref name="layers"/> dense layers (MatMul then Tanh)
    /// computed from the input: each row is projected to <paramref name="width"/> units and spread
    /// over <paramref name="lanes"/> lanes that differ by a fixed bias, so every layer multiplies a
    /// [rows × lanes, width] matrix by one shared seeded [width, width] weight matrix. The work per
    /// row is <c>layers × lanes × width²</c> multiply-adds whatever the batch size, with weights small
    /// enough to stay in cache, so the cost grows in proportion to <paramref name="layers"/>. The
    /// chain's mean, scaled by 1e-9, is added to the logits: far below FP32 resolution of the logits
    /// (the answers stay the demo's), but ONNX Runtime cannot know that and must run every layer.
    /// </summary>
    public static byte[] WithExtraWork(byte[] demoOnnx, int layers, int width = 256, int lanes = 16, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        var model = ModelProto.Parser.ParseFrom(demoOnnx);
        var graph = model.Graph;
        var input = graph.Input[0].Name;
        var features = graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue;
        var random = new Random(seed);
        // Weights of variance 1/fan-in keep the activations of the order of one through the chain; Tanh bounds them anyway.
        graph.Initializer.Add(FloatTensor("work_in", RandomWeights(random, features, width), features, width));
        graph.Initializer.Add(new TensorProto { Name = "work_spread", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 3 }, Int64Data = { -1, 1, width } });
        graph.Initializer.Add(FloatTensor("work_lanes", RandomWeights(random, 1, lanes * (long)width), lanes, width));
        graph.Initializer.Add(FloatTensor("work_w", RandomWeights(random, width, width), width, width));
        graph.Initializer.Add(FloatTensor("work_scale", [1e-9f]));

        List<NodeProto> work =
        [
            Node("MatMul", "work_in", [input, "work_in"], "work_projected"),
            Node("Reshape", "work_spread", ["work_projected", "work_spread"], "work_spread_out"),
            // [n,1,width] + [lanes,width] = [n,lanes,width]
            Node("Add", "work_lanes", ["work_spread_out", "work_lanes"], "work_lanes_out"),
            Node("Tanh", "work_0", ["work_lanes_out"], "work_0_out"),
        ];
        for (var i = 1; i <= layers; i++)
        {
            work.Add(Node("MatMul", $"work_{i}_matmul", [$"work_{i - 1}_out", "work_w"], $"work_{i}_linear"));
            work.Add(Node("Tanh", $"work_{i}", [$"work_{i}_linear"], $"work_{i}_out"));
        }
        work.Add(Node("ReduceMean", "work_mean", [$"work_{layers}_out"], "work_mean_out", IntsAttribute("axes", 1, 2), IntAttribute("keepdims", 0)));
        work.Add(Node("Reshape", "work_column", ["work_mean_out", "work_column_shape"], "work_column_out"));
        graph.Initializer.Add(new TensorProto { Name = "work_column_shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, 1 } });
        work.Add(Node("Mul", "work_scaled", ["work_column_out", "work_scale"], "work_term"));
        RewireLogits(graph, "work_term", work);
        return model.ToByteArray();
    }

    /// <summary>
    /// The demo network, except that it fails at run time for a row whose first feature truncates to
    /// an integer outside [-1, 0] (e.g. <see cref="PoisonFirstFeature"/>): that integer indexes a
    /// one-element table (Gather), and ONNX Runtime refuses an index out of its bounds. The looked-up
    /// value (zero) is added to the logits, so the node cannot skip the look-up and every other row
    /// gets the demo's answer. A batch holding such a row fails as a whole.
    /// </summary>
    public static byte[] FailingForLargeFirstFeature(byte[] demoOnnx)
    {
        var model = ModelProto.Parser.ParseFrom(demoOnnx);
        var graph = model.Graph;
        var input = graph.Input[0].Name;
        graph.Initializer.Add(new TensorProto { Name = "guard_starts", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 0 } });
        graph.Initializer.Add(new TensorProto { Name = "guard_ends", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 1 } });
        graph.Initializer.Add(new TensorProto { Name = "guard_axes", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { 1 } });
        graph.Initializer.Add(FloatTensor("guard_table", [0f], 1));
        List<NodeProto> guard =
        [
            Node("Slice", "guard_first", [input, "guard_starts", "guard_ends", "guard_axes"], "guard_first_out"),
            Node("Cast", "guard_index", ["guard_first_out"], "guard_index_out", IntAttribute("to", (long)TensorProto.Types.DataType.Int64)),
            // [n,1] indices into a [1] table: [n,1] zeros, or a run-time error for an index out of range.
            Node("Gather", "guard_lookup", ["guard_table", "guard_index_out"], "guard_term", IntAttribute("axis", 0)),
        ];
        RewireLogits(graph, "guard_term", guard);
        return model.ToByteArray();
    }

    /// <summary>
    /// Adds <paramref name="term"/> ([n,1], broadcast over the classes) to the demo's logits: the
    /// node that made <c>logits</c> now makes <c>logits_base</c>, and an Add makes <c>logits</c>
    /// from both, so Softmax and ArgMax read the sum. <paramref name="nodes"/> go in first.
    /// </summary>
    private static void RewireLogits(GraphProto graph, string term, List<NodeProto> nodes)
    {
        var producer = graph.Node.Single(n => n.Output.Contains("logits"));
        producer.Output[producer.Output.IndexOf("logits")] = "logits_base";
        nodes.Add(Node("Add", "logits_with_term", ["logits_base", term], "logits"));
        var at = graph.Node.IndexOf(producer) + 1;
        for (var i = 0; i < nodes.Count; i++) graph.Node.Insert(at + i, nodes[i]);
    }

    private static float[] RandomWeights(Random random, long rows, long columns)
    {
        var weights = new float[rows * columns];
        var scale = Math.Sqrt(3.0 / rows);
        for (var i = 0; i < weights.Length; i++) weights[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return weights;
    }

    private static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
