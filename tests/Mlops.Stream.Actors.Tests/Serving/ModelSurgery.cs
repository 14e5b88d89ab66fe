using Google.Protobuf;
using Mlops.Stream.Demo.Onnx.Proto;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>Edits a real ONNX model into the broken variants a swap must refuse.</summary>
internal static class ModelSurgery
{
    /// <summary>The same model with its input renamed: an incompatible signature.</summary>
    public static byte[] RenameInput(byte[] onnx, string newName)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var old = model.Graph.Input[0].Name;
        model.Graph.Input[0].Name = newName;
        foreach (var node in model.Graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == old) node.Input[i] = newName;
        return model.ToByteArray();
    }

    /// <summary>
    /// The same signature, but a first Reshape to [7, -1] that fails at run time unless the number of
    /// features is a multiple of 7: loads fine, throws in warm-up.
    /// </summary>
    public static byte[] FailingAtRun(byte[] onnx, int features)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var input = model.Graph.Input[0].Name;
        foreach (var node in model.Graph.Node)
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == input) node.Input[i] = "restored";
        model.Graph.Initializer.Add(new TensorProto { Name = "shape_bad", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { 7, -1 } });
        model.Graph.Initializer.Add(new TensorProto { Name = "shape_back", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, features } });
        model.Graph.Node.Insert(0, new NodeProto { OpType = "Reshape", Name = "bad_reshape", Input = { input, "shape_bad" }, Output = { "reshaped" } });
        model.Graph.Node.Insert(1, new NodeProto { OpType = "Reshape", Name = "reshape_back", Input = { "reshaped", "shape_back" }, Output = { "restored" } });
        return model.ToByteArray();
    }
}
