using Mlops.Stream.Host;
using Mlops.Stream.Host.Models;

if (args is [CreateDemoCommand.Verb, ..]) return await CreateDemoCommand.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddMlopsStreaming();

var app = builder.Build();
app.UseMlopsStreaming();
app.Run();
return 0;
