import time, sys, tempfile, math, cProfile, pstats
from keel.backends.sql import open_sql_store
from keel.tracking.models import MetricRecord
d=tempfile.mkdtemp()
s=open_sql_store(sys.argv[1] if len(sys.argv)>1 else f"sqlite:///{d}/keel.db")
e=s.experiments.create_experiment("e1","exp","/a",{"t":"v"},1)
for i in range(10):
    s.runs.create_run(f"r{i}","e1","run",5,"/a/r1",None,"me",{"x":"y"})
recs=[MetricRecord(f"r{i%10}",f"k{i%7}",float(i),i,1000+i) for i in range(100000)]
t=time.perf_counter(); s.runs.log_metrics(recs); print("100k", time.perf_counter()-t)
cProfile.run("s.runs.log_metrics(recs)", "/tmp/p.out")
pstats.Stats("/tmp/p.out").sort_stats("cumtime").print_stats(25)
s.close()
