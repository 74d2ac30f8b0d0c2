#!/usr/bin/perl
# PID 1 of make test-fresh's VM (test-fresh.sh): runs the guest script and
# reaps every orphan until it ends, as an init does, then powers off.
use strict;
use warnings;

my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    exec('/bin/sh', '/opt/rsns-vm/guest.sh', '/root/fresh-out') or die "exec: $!";
}
while ((my $done = waitpid(-1, 0)) > 0) {
    last if $done == $pid;
}
system('sync');
exec('/opt/rsns-vm/busybox', 'poweroff', '-f');
