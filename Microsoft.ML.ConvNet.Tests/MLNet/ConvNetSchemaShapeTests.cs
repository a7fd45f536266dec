using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.ConvNet.Tests.MLNet;

/// <summary><see cref="ConvNetTrainer.GetOutputSchema"/> on the schema shapes ML.NET's own loaders declare.</summary>
[TestClass]
public sealed class ConvNetSchemaShapeTests
{
    /// <summary>
    /// The schema shape of a text loader followed by <paramref name="trainer"/>: ML.NET lets only its own components make
    /// schema shapes, and a composite loader estimator asks the trainer for its output shape.
    /// </summary>
    private static SchemaShape Output(MLContext ml, ConvNetTrainer trainer, DataKind labelKind, KeyCount? keyCount = null) => ml.Data.CreateTextLoader(
        [
            new TextLoader.Column("Label", labelKind, 0) { KeyCount = keyCount },
            new TextLoader.Column("Features", DataKind.Single, 1, 784),
            new TextLoader.Column("Name", DataKind.String, 785),
        ]).Append(trainer).GetOutputSchema();

    [TestMethod]
    public void MulticlassAddsScoreAndPredictedLabelAsMLNetsOwnClassifiersDo()
    {
        var ml = new MLContext(1);
        var output = Output(ml, ml.MulticlassClassification.Trainers.ConvNet(architecture: "smallcnn"), DataKind.UInt32, new KeyCount(10));
        var score = output.Single(c => c.Name == "Score");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.AreEqual(NumberDataViewType.Single, score.ItemType);
        var predicted = output.Single(c => c.Name == "PredictedLabel");
        Assert.IsTrue(predicted.IsKey);
        Assert.AreEqual(SchemaShape.Column.VectorKind.Scalar, predicted.Kind);
        CollectionAssert.AreEquivalent(new[] { "Label", "Features", "Name", "Score", "PredictedLabel" }, output.Select(c => c.Name).ToArray());
    }

    [TestMethod]
    public void BinaryAddsScoreProbabilityAndBooleanPredictedLabel()
    {
        var ml = new MLContext(1);
        var output = Output(ml, ml.BinaryClassification.Trainers.ConvNet(new ConvNetTrainer.Options { ScoreColumnName = "Raw" }), DataKind.Boolean);
        Assert.AreEqual(NumberDataViewType.Single, output.Single(c => c.Name == "Raw").ItemType);
        Assert.AreEqual(NumberDataViewType.Single, output.Single(c => c.Name == "Probability").ItemType);
        Assert.AreEqual(BooleanDataViewType.Instance, output.Single(c => c.Name == "PredictedLabel").ItemType);
    }

    [TestMethod]
    public void WrongLabelOrFeatureTypesNameTheColumn()
    {
        var ml = new MLContext(1);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Output(ml, ml.MulticlassClassification.Trainers.ConvNet(), DataKind.Single));
        StringAssert.Contains(e.Message, "label column 'Label'");
        StringAssert.Contains(e.Message, "Key");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Output(ml, ml.MulticlassClassification.Trainers.ConvNet(featureColumnName: "Name"), DataKind.UInt32, new KeyCount(3)));
        StringAssert.Contains(e.Message, "feature column 'Name'");
        e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Output(ml, ml.MulticlassClassification.Trainers.ConvNet(featureColumnName: "Pixels"), DataKind.UInt32, new KeyCount(3)));
        StringAssert.Contains(e.Message, "Could not find feature column 'Pixels'");
    }
}
