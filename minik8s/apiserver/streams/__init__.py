"""The API server's end of kubectl's stream protocols (pods/exec, attach, portforward).

kube-apiserver proxies these upgrades to the kubelet byte for byte; minik8s instead
terminates whatever the client speaks here and talks one protocol to its kubelets
(the websocket channel protocol, minik8s.kubelet.server), so the kubelet stays small
and every client protocol is served in one place:

- upgrade: the handshakes (SPDY/3.1 over a taken-over HTTP/1.1 connection, SPDY
  tunnelled in a websocket) and the byte pipes a SPDY session runs on;
- remotecommand: exec and attach over SPDY (v4/v3/v2/v1.channel.k8s.io) and
  over websockets (v5/v4.channel.k8s.io);
- portforward: portforward.k8s.io over SPDY, direct or tunnelled.
"""
