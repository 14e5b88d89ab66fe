using Mlops.Stream.Host;
using Mlops.Stream.Http;

var builder = WebApplication.CreateBuilder(args);
builder.AddMlopsStreaming();

var app = builder.Build();
app.MapHealthApi();
app.MapSystemApi();
app.MapInferenceApi();
app.MapModelsApi();
app.Run();
