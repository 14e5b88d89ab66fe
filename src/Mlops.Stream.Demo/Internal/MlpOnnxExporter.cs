using Google.Protobuf;
using Mlops.Stream.Demo.Onnx.Proto;

namespace Mlops.Stream.Demo.Internal;

/// <summary>
/// Writes an <see cref="MlpClassifier"/> as an ONNX model (opset 13):
/// features → Sub(mean) → Div(std) → Gemm(W1,b1) → Relu → Gemm(W2,b2) = logits;
/// probabilities = Softmax(logits, axis 1) [N,2]; label = ArgMax(logits, axis 1, keepdims 0) [N] int64.
/// The batch axis is the symbolic dimension "batch". Nothing time- or machine-dependent is written,
/// so equal weights give byte-identical files.
/// </summary>
internal static class MlpOnnxExporter
{
    public const string InputName = "features";
    public const string ProbabilitiesName = "probabilities";
    public const string LabelName = "label";
    private const int IrVersion = 8;
    private const int OpsetVersion = 13;

    public static byte[] Export(MlpClassifier classifier, string graphName, string docString)
    {
        var graph = new GraphProto { Name = graphName };
        graph.Initializer.Add(FloatTensor("feature_mean", classifier.Mean, classifier.Inputs));
        graph.Initializer.Add(FloatTensor("feature_std", classifier.Std, classifier.Inputs));
        graph.Initializer.Add(FloatTensor("w1", classifier.W1, classifier.Inputs, classifier.Hidden));
        graph.Initializer.Add(FloatTensor("b1", classifier.B1, classifier.Hidden));
        graph.Initializer.Add(FloatTensor("w2", classifier.W2, classifier.Hidden, MlpClassifier.Classes));
        graph.Initializer.Add(FloatTensor("b2", classifier.B2, MlpClassifier.Classes));

        graph.Node.Add(Node("Sub", "standardise_center", [InputName, "feature_mean"], "centered"));
        graph.Node.Add(Node("Div", "standardise_scale", ["centered", "feature_std"], "standardized"));
        graph.Node.Add(Node("Gemm", "dense1", ["standardized", "w1", "b1"], "hidden_linear"));
        graph.Node.Add(Node("Relu", "relu1", ["hidden_linear"], "hidden"));
        graph.Node.Add(Node("Gemm", "dense2", ["hidden", "w2", "b2"], "logits"));
        graph.Node.Add(Node("Softmax", "softmax", ["logits"], ProbabilitiesName, IntAttribute("axis", 1)));
        graph.Node.Add(Node("ArgMax", "argmax", ["logits"], LabelName, IntAttribute("axis", 1), IntAttribute("keepdims", 0)));

        graph.Input.Add(ValueInfo(InputName, TensorProto.Types.DataType.Float, null, classifier.Inputs));
        graph.Output.Add(ValueInfo(ProbabilitiesName, TensorProto.Types.DataType.Float, null, MlpClassifier.Classes));
        graph.Output.Add(ValueInfo(LabelName, TensorProto.Types.DataType.Int64, null));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Mlops.Stream.Demo",
            ProducerVersion = "1",
            ModelVersion = 1,
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model.ToByteArray();
    }

    internal static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    internal static NodeProto Node(string opType, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    internal static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A tensor value whose first dimension is the symbolic batch axis, followed by fixed dims.</summary>
    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, string? doc, params long[] fixedDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var dim in fixedDims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto
        {
            Name = name,
            DocString = doc ?? "",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
